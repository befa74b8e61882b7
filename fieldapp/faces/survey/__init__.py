"""/survey/<token>: the customer's satisfaction survey for one return visit (回访). No login:
the single-use token in the link (sent through the notification outbox) is the capability; it
is stored only hashed and expires (fieldapp/visits/service.py).

Phone-sized, zh-CN unless the customer switches (`?lang=en`), CSRF-protected, rate-limited. It
shows only what the customer needs to recognise the visit: company, job reference, product,
date and the technician's display name (no address, no phone numbers)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from fieldapp.extensions import db, limiter
from fieldapp.visits import service as visit_service
from fieldapp.web import add_field_error, clock, domain_ctx, office_action

bp = Blueprint("survey", __name__, template_folder="templates", url_prefix="/survey")

LIMIT = "30 per minute"
SCORE_WORDS = {5: _l("Very satisfied"), 4: _l("Satisfied"), 3: _l("OK"),
               2: _l("Unhappy"), 1: _l("Very unhappy")}


class SurveyForm(FlaskForm):
    score = RadioField(_l("How satisfied are you with our visit?"), coerce=int,
                       choices=[(n, str(n)) for n in (1, 2, 3, 4, 5)],
                       validators=[InputRequired(_l("Choose a score from 1 to 5."))])
    comment = TextAreaField(_l("Anything you would like to tell us?"),
                            validators=[Optional(), Length(max=visit_service.MAX_TEXT)])
    issues = TextAreaField(_l("Is anything still a problem? Tell us what, and we will come back."),
                           validators=[Optional(), Length(max=visit_service.MAX_TEXT)])


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh_CN"


def _gone(state: str):
    """Unknown (404) or expired (410): a plain page, never a stack trace."""
    status = 410 if state == "expired" else 404
    return render_template("survey/gone.html", state=state, lang=_lang()), status


def _facts(visit):
    job = visit.job
    tz = current_app.extensions["fieldapp.policy"].tz
    day = job.completed_at or job.approved_at
    company = current_app.config.get("COMPANY_NAME") or _("After-sales service department")
    return {"company": company,
            "ref": job.ref, "product": job.product_model,
            "date": day.astimezone(tz).strftime("%Y-%m-%d") if day else "",
            "technician": customer_facing_name(visit.technician)}


def customer_facing_name(user) -> str:
    """The technician as the customer knows them: their display name; nothing when it is
    only the sign-in name (create_user's default), which is no name for a customer."""
    if user is None:
        return ""
    name = (user.display_name or "").strip()
    return "" if name == user.username else name


@bp.route("/<token>", methods=["GET", "POST"])
@limiter.limit(LIMIT)
def survey(token: str):
    visit = visit_service.visit_for_token(db.session, token)
    state = visit_service.survey_state(visit, clock().now())
    if state in ("unknown", "expired"):
        return _gone(state)
    facts = _facts(visit)
    if state == "answered":
        return render_template("survey/answered.html", facts=facts, lang=_lang(),
                               token=token), 200 if request.method == "GET" else 409
    form = SurveyForm()

    def page(status: int):
        if status == 400:
            db.session.rollback()
        return render_template("survey/form.html", form=form, facts=facts, lang=_lang(),
                               token=token, words=SCORE_WORDS), status

    def refused(error):
        if error.code == "return_visit_answered":
            return render_template("survey/answered.html", facts=facts, lang=_lang(),
                                   token=token), 409
        if error.code in ("survey_expired", "survey_not_found"):
            return _gone("expired" if error.code == "survey_expired" else "unknown")
        # Any other refusal: the customer is asked for the score again, never shown a code.
        add_field_error(form, "score", _("Choose a score from 1 to 5."))
        return page(400)

    if request.method == "POST" and form.validate():
        return office_action(
            lambda: visit_service.answer_survey(domain_ctx(), token, form.score.data,
                                                form.comment.data, form.issues.data),
            lambda _visit: render_template("survey/thanks.html", facts=facts, lang=_lang(),
                                           score=form.score.data,
                                           issues=bool(form.issues.data)),
            refused=refused)
    return page(400 if request.method == "POST" else 200)

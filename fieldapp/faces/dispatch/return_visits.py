"""/dispatch/return-visits: the return-visit (回访) queue. Unanswered visits oldest due first
(overdue ones highlighted), with the customer's name and phone for the call, the job and the
technician; a form per visit records the call (score 1-5, comment, open issues). Recent
answers show the complaint or follow-up job they opened."""
from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from fieldapp.core.errors import NotFound
from fieldapp.desk import pages
from fieldapp.extensions import db
from fieldapp.visits import service as visit_service
from fieldapp.visits.models import ReturnVisit
from fieldapp.web import clock, domain_ctx, flashed, office_action, web_actor

from .blueprint import bp
from .forms import ResendSurveyForm


class ReturnVisitForm(FlaskForm):
    score = RadioField(_l("Score"), coerce=int, choices=[(n, str(n)) for n in (1, 2, 3, 4, 5)],
                       validators=[InputRequired(_l("Choose a score from 1 to 5."))])
    comment = TextAreaField(_l("What the customer said"),
                            validators=[Optional(), Length(max=visit_service.MAX_TEXT)])
    issues = TextAreaField(_l("Problems still open (opens a follow-up repair job)"),
                           validators=[Optional(), Length(max=visit_service.MAX_TEXT)])


def visit_form(visit_id: int, formdata=None) -> ReturnVisitForm:
    kwargs = {} if formdata is not None else {"formdata": None}
    return ReturnVisitForm(prefix=f"v{visit_id}", **kwargs)


def render_queue(errors: dict | None = None, status: int = 200):
    ctx = domain_ctx()
    now = clock().now()
    data = pages.return_visit_queue(db.session, now, ctx.policy.timezone)
    forms = {v.id: (errors or {}).get(v.id) or visit_form(v.id) for v in data["due"]}
    return render_template(
        "dispatch/return_visits.html", **data, forms=forms, tz=ctx.policy.tz, now=now,
        low_score=visit_service.LOW_SCORE, resend_form=ResendSurveyForm(formdata=None)), status


@bp.route("/return-visits")
def return_visits():
    return render_queue()


@bp.route("/return-visits/<int:visit_id>/result", methods=["POST"])
def return_visit_result(visit_id: int):
    if db.session.get(ReturnVisit, visit_id) is None:
        abort(404)
    form = visit_form(visit_id, request.form)
    if not form.validate():
        db.session.rollback()
        return render_queue({visit_id: form}, 400)
    return office_action(
        lambda: visit_service.record_result(domain_ctx(), web_actor(), visit_id,
                                            form.score.data, form.comment.data,
                                            form.issues.data),
        result_recorded, back=url_for("dispatch.return_visits"), refused=not_found)


def not_found(error):
    if isinstance(error, NotFound):
        abort(404)


def result_recorded(visit):
    parts = [_("Return visit for %(ref)s recorded: %(score)s/5.", ref=visit.job.ref,
               score=visit.score)]
    if visit.complaint is not None:
        parts.append(_("Complaint %(ref)s opened.", ref=visit.complaint.ref))
    if visit.followup_job is not None:
        parts.append(_("Follow-up job %(ref)s opened.", ref=visit.followup_job.ref))
    return flashed(" ".join(parts), url_for("dispatch.return_visits") + "#answered",
                   "warn" if len(parts) > 1 else "ok")


@bp.route("/return-visits/<int:visit_id>/resend", methods=["POST"])
def resend_survey(visit_id: int):
    """A new survey link to the customer; the old one stops working."""
    back = url_for("dispatch.return_visits")
    if request.form.get("from_job"):
        visit = db.session.get(ReturnVisit, visit_id)
        if visit is not None:
            back = url_for("dispatch.job_page", job_id=visit.job_id) + "#return-visit"
    if not ResendSurveyForm().validate():
        db.session.rollback()
        abort(400)
    return office_action(
        lambda: visit_service.resend_survey(domain_ctx(), web_actor(), visit_id),
        lambda visit: flashed(_("A new survey link for %(ref)s was sent to the customer; the "
                                "old link no longer works.", ref=visit.job.ref), back),
        back=back, refused=not_found)

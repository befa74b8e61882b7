"""The after-sales head's parts pages at /review/parts (supervisors, admins): the queue of
parts requests waiting for a decision (approve with the cause, or refuse with a reason; the
approver is recorded) and the parts and replacements log (补件和更换配件记录) with causes,
the warehouse release and the counts by cause. Issue 8."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import abort, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from fieldapp import labels as app_labels
from fieldapp.blobs.models import Blob
from fieldapp.csvfile import csv_response
from fieldapp.desk import pages
from fieldapp.extensions import db
from fieldapp.faces.shared import takeback_pdf_response
from fieldapp.parts import service as parts_service
from fieldapp.web import clock, domain_ctx, flashed, office_action, web_actor

from .blueprint import bp
from .images import thumbnail

# Named once in fieldapp/labels.py (the job's timeline names them too).
KIND, STATUS, CAUSE = app_labels.PARTS_KIND, app_labels.PARTS_STATUS, app_labels.PARTS_CAUSE


def labels() -> dict:
    return {"KIND": KIND, "STATUS": STATUS, "CAUSE": CAUSE}


class PartsDecisionForm(FlaskForm):
    decision = HiddenField(validators=[AnyOf(list(parts_service.DECISIONS))])
    cause = SelectField(_l("Cause"), validators=[Optional()],
                        choices=[("", "—")] + [(k, v) for k, v in CAUSE.items()])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)])


class ReleaseForm(FlaskForm):
    pass


def _tz():
    return domain_ctx().policy.tz


@bp.route("/parts")
def parts_queue():
    rows = pages.parts_queue(db.session, web_actor().user)
    forms = {p.id: PartsDecisionForm(cause=p.cause or "") for p in rows}
    return render_template("review/parts_queue.html", rows=rows, forms=forms, tz=_tz(),
                           now=clock().now(), pl=labels())


@bp.route("/parts/<request_id>/decide", methods=["POST"])
def parts_decide(request_id):
    form = PartsDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    return office_action(
        lambda: parts_service.decide(domain_ctx(), web_actor(), request_id, form.decision.data,
                                     form.reason.data, form.cause.data or None),
        decided, back=url_for("review.parts_queue") + f"#p-{request_id}")


def decided(parts):
    to = url_for("review.parts_queue")
    if parts.status == "approved":
        return flashed(_("Approved: %(part)s × %(n)d (%(ref)s)", part=parts.part_name,
                         n=parts.quantity, ref=parts.job.ref), to)
    return flashed(_("Refused: %(part)s (%(ref)s)", part=parts.part_name, ref=parts.job.ref),
                   to)


def log_filters() -> dict:
    """The parts log's filters from the query, to carry over to the next page: only these
    names (url_for reads `_external`, `_scheme`... as orders, never to be taken from a URL)."""
    return {k: request.args[k] for k in ("status", "kind", "cause", "days")
            if request.args.get(k)}


@bp.route("/parts/<request_id>/release", methods=["POST"])
def parts_release(request_id):
    if not ReleaseForm().validate_on_submit():
        abort(400)
    back = url_for("review.parts_log", **log_filters())
    return office_action(
        lambda: parts_service.release(domain_ctx(), web_actor(), request_id),
        lambda parts: flashed(_("Released from the warehouse: %(part)s × %(n)d",
                                part=parts.part_name, n=parts.quantity), back),
        back=back)


def _since(days: str | None) -> tuple[int, datetime | None]:
    try:
        n = int(days) if days else 90
    except ValueError:
        n = 90
    if n <= 0:
        return 0, None
    today = clock().now().astimezone(_tz()).date()
    return n, datetime.combine(today - timedelta(days=n - 1), time(0), _tz())


@bp.route("/parts/log")
def parts_log():
    status = request.args.get("status") or None
    kind = request.args.get("kind") or None
    cause = request.args.get("cause") or None
    if status not in (None, *parts_service.PARTS_STATUSES, "released") or \
            kind not in (None, *parts_service.PARTS_KINDS) or \
            cause not in (None, *parts_service.CAUSES):
        abort(400)
    days, since = _since(request.args.get("days"))
    return render_template("review/parts_log.html",
                           **pages.parts_log(db.session, web_actor().user, status, kind, cause,
                                             since),
                           tz=_tz(), pl=labels(), release_form=ReleaseForm(),
                           filters=log_filters(),
                           f={"status": status or "", "kind": kind or "", "cause": cause or "",
                              "days": days})


@bp.route("/parts/log.csv")
def parts_log_csv():
    rows = pages.parts_for_export(db.session, web_actor().user)
    tz = _tz()
    fmt = lambda v: v.astimezone(tz).strftime("%Y-%m-%d %H:%M") if v else ""  # noqa: E731
    # Column names and values in the reader's language; the codes are the API's (issue 17).
    header = [_("Requested"), _("Job"), _("Part"), _("Quantity"), _("Kind"), _("Reason"),
              _("Cause"), _("Status"), _("Decided by"), _("Decided"), _("Decision reason"),
              _("Released"), _("Released by")]
    return csv_response(header, [[
        [fmt(p.created_at), p.job.ref, p.part_name, p.quantity, str(KIND.get(p.kind, "")),
         p.reason, str(CAUSE.get(p.cause, "")) if p.cause else "",
         str(STATUS.get("released" if p.released_at else p.status, "")),
         p.decided_by.display_name if p.decided_by else "",
         fmt(p.decided_at), p.decision_reason or "", fmt(p.released_at),
         p.released_by.display_name if p.released_by else ""] for p in rows]],
        "parts-log.csv")


@bp.route("/takebacks/<receipt_id>/<kind>.pdf")
def takeback_pdf(receipt_id, kind):
    return takeback_pdf_response(receipt_id, kind)


@bp.route("/parts/blobs/<sha256>")
def parts_thumb(sha256):
    """A photo or signature of a parts request or take-back, downscaled."""
    return evidence_thumb(sha256)


def evidence_thumb(sha256: str):
    if len(sha256) != 64 or db.session.get(Blob, sha256) is None or \
            not parts_service.blob_referenced(db.session, sha256):
        abort(404)
    data, mime = thumbnail(sha256, keep_alpha=False)
    response = make_response(data)
    response.headers["Content-Type"] = mime
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@bp.app_template_global("job_parts")
def job_parts(job_id: str) -> dict:
    """A job's parts requests and receipts for the office's job pages (both faces)."""
    return {**pages.job_parts(db.session, job_id), "pl": labels()}

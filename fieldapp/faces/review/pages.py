"""The review's job pages: the queue of completed jobs (oldest first), one job's evidence and
the sign-off, the service report, seal verification and KPIs."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import (
    abort,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import AnyOf, Length

from fieldapp.blobs.models import Blob
from fieldapp.blobstore import store
from fieldapp.core.errors import DomainError
from fieldapp.core.kpis import meets
from fieldapp.desk import pages
from fieldapp.desk.kpis import kpi_page
from fieldapp.documents.service_report import pdf_response
from fieldapp.extensions import db
from fieldapp.faces.shared import email_customer
from fieldapp.jobs import service as job_service
from fieldapp.jobs.models import Job, Photo, Signature
from fieldapp.sealing.service import verify_job
from fieldapp.web import (
    EVENT_LABELS,
    clock,
    domain_ctx,
    error_text,
    flashed,
    office_action,
    parse_day,
    web_actor,
)

from . import parts
from .blueprint import bp
from .images import thumbnail


class DecisionForm(FlaskForm):
    decision = HiddenField(validators=[AnyOf(["approve", "rework"])])
    comment = TextAreaField(validators=[Length(max=4000)])
    # Approve although a complaint about the job is open (the service asks for a comment).
    override = BooleanField()


def _tz():
    return domain_ctx().policy.tz


@bp.route("/")
def queue():
    return render_template("review/queue.html", **pages.review_queue(db.session), tz=_tz(),
                           now=clock().now())


def _job_or_404(job_id: str) -> Job:
    try:
        return job_service.get_job(domain_ctx(), web_actor(), job_id)
    except DomainError:
        abort(404)


@bp.route("/jobs/<job_id>")
def job_page(job_id):
    job = _job_or_404(job_id)
    return render_template(
        "review/job.html", job=job,
        **pages.review_job(db.session, job, web_actor().user, clock().now()),
        form=DecisionForm(), tz=_tz(), event_labels=EVENT_LABELS)


@bp.route("/jobs/<job_id>/decide", methods=["POST"])
def decide(job_id):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    ctx = domain_ctx()

    def change():
        job = job_service.get_job(ctx, web_actor(), job_id, for_update=True)
        job_service.review(ctx, web_actor(), job, form.decision.data,
                           (form.comment.data or "").strip() or None,
                           override=bool(form.override.data))
        return job

    def done(job):
        if form.decision.data == "approve":
            email_customer(job)  # after the commit: a mail that fails never undoes a sign-off
            return flashed(_("Approved and sealed: %(ref)s", ref=job.ref), url_for("review.queue"))
        return flashed(_("Sent back to the technician: %(ref)s", ref=job.ref),
                       url_for("review.queue"))

    def refused(error):
        # A missing comment, or an open complaint not overridden with one, is shown under
        # the comment field, at the foot of the page, by the override.
        if error.code in ("comment_required", "open_complaints"):
            return flashed(error_text(error), url_for("review.job_page", job_id=job_id,
                                                      _anchor="decide"), "field-comment")
        return None

    return office_action(change, done, back=url_for("review.job_page", job_id=job_id),
                         refused=refused)


def _blob_for_review(sha256: str) -> Blob:
    """A photo or signature blob of some job (only what jobs reference is shown here)."""
    blob = db.session.get(Blob, sha256) if len(sha256) == 64 else None
    if blob is None:
        abort(404)
    used = db.session.execute(select(Photo.id).where(Photo.sha256 == sha256).limit(1)
                              ).first() or \
        db.session.execute(select(Signature.id).where(Signature.sha256 == sha256).limit(1)
                           ).first()
    if not used:
        abort(404)
    return blob


def _cached(response, sha256: str):
    # Content-addressed: the bytes behind a hash never change.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["ETag"] = f'"{sha256}"'
    return response


@bp.route("/thumbs/<sha256>")
def thumb(sha256):
    _blob_for_review(sha256)
    if request.if_none_match and sha256 in request.if_none_match:
        return _cached(make_response("", 304), sha256)
    data, mime = thumbnail(sha256, keep_alpha=True)
    response = make_response(data)
    response.headers["Content-Type"] = mime
    return _cached(response, sha256)


@bp.route("/blobs/<sha256>")
def full_image(sha256):
    blob = _blob_for_review(sha256)
    with store().open(sha256) as handle:
        data = handle.read()
    response = make_response(data)
    response.headers["Content-Type"] = blob.content_type
    return _cached(response, sha256)


@bp.route("/jobs/<job_id>/report.pdf")
def report(job_id):
    job = _job_or_404(job_id)
    return pdf_response(job, request.args.get("lang") or str(get_locale() or "zh"))


@bp.route("/verify/<job_id>")
def verify_page(job_id):
    """Recompute one job's seal now (the QR code on the report points here)."""
    seal, problems = verify_job(db.session, job_id)
    if seal is None:
        abort(404)
    return render_template("review/verify.html", seal=seal, problems=problems, tz=_tz(),
                           job=db.session.get(Job, job_id))


@bp.route("/kpis")
def kpis():
    tz = _tz()
    today = clock().now().astimezone(tz).date()
    start = parse_day(request.args.get("from"), today - timedelta(days=29))
    end = parse_day(request.args.get("to"), today)
    if end < start:
        start, end = end, start

    since = datetime.combine(start, time(0), tz)
    until = datetime.combine(end + timedelta(days=1), time(0), tz)
    return render_template(
        "review/kpis.html", **kpi_page(db.session, since, until, _("Team")), start=start,
        end=end, meets=meets, pl=parts.labels())


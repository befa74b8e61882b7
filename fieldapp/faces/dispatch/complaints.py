"""Complaint pages: the list, intake (with an optional evidence photo kept in the blob store),
one complaint with its clocks, moves, contact log, return-visit jobs and audit trail."""
from __future__ import annotations

import hashlib
import io

from flask import Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldapp.blobs.models import Blob
from fieldapp.blobstore import store
from fieldapp.complaints import service as complaint_service
from fieldapp.core import complaints as rules
from fieldapp.core.errors import DomainError, NotFound
from fieldapp.csvfile import csv_response
from fieldapp.desk import pages
from fieldapp.desk import service as desk
from fieldapp.extensions import db
from fieldapp.jobs.models import Job
from fieldapp.settings.service import desk_settings
from fieldapp.web import (
    FieldError,
    clock,
    domain_ctx,
    flashed,
    form_refused,
    office_action,
    web_actor,
)
from sync.blobs import BlobError

from .blueprint import bp
from .board import technician_choices
from .forms import (
    ABOUT_LABELS,
    COMPLAINT_STATUS_LABELS,
    SEVERITY_LABELS,
    ComplaintContactForm,
    ComplaintForm,
    ComplaintJobForm,
    ComplaintMoveForm,
    ComplaintSearchForm,
    opts,
)
from .lists import query_args


def complaint_filter(form: ComplaintSearchForm) -> desk.ComplaintFilter:
    return desk.ComplaintFilter(
        q=(form.q.data or "").strip(),
        status=form.status.data if form.status.data in rules.STATUSES else "",
        severity=form.severity.data if form.severity.data in rules.SEVERITIES else "",
        date_from=form.date_from.data, date_to=form.date_to.data)


def complaint_search_form() -> ComplaintSearchForm:
    form = ComplaintSearchForm(request.args)
    form.status.choices = opts([("", _("Any status"))] + [(s, COMPLAINT_STATUS_LABELS[s])
                                                          for s in rules.STATUSES])
    form.severity.choices = opts([("", _("Any class"))] + [(s, SEVERITY_LABELS[s])
                                                           for s in rules.SEVERITIES])
    form.validate()
    return form


@bp.route("/complaints")
def complaints():
    ctx = domain_ctx()
    form = complaint_search_form()
    f = complaint_filter(form)
    cursor = request.args.get("cursor", "")
    try:
        page = desk.search_complaints(db.session, f, ctx.policy, cursor)
    except DomainError:
        page, cursor = desk.search_complaints(db.session, f, ctx.policy, ""), ""
    args = query_args()
    return render_template(
        "dispatch/complaints.html", form=form, page=page, tz=ctx.policy.tz,
        views=pages.complaint_clock_views(db.session, page.rows, clock().now(), ctx.policy,
                                          desk_settings()), first_page=bool(cursor),
        first_url=url_for("dispatch.complaints", **args),
        next_url=url_for("dispatch.complaints", cursor=page.next_cursor, **args)
        if page.next_cursor else None,
        csv_url=url_for("dispatch.complaints_csv", **args))


@bp.route("/complaints.csv")
def complaints_csv():
    ctx = domain_ctx()
    f = complaint_filter(complaint_search_form())
    tz = ctx.policy.tz

    def local(value):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    def batches():
        cursor = ""
        while True:
            page = desk.search_complaints(db.session, f, ctx.policy, cursor, limit=1000)
            yield [[c.ref, local(c.created_at), str(COMPLAINT_STATUS_LABELS[c.status]),
                    str(SEVERITY_LABELS[c.severity]), str(ABOUT_LABELS[c.about]),
                    c.complainant_name, c.complainant_phone, c.content, c.result or "",
                    local(c.escalated_at), local(c.resolved_at), local(c.closed_at)]
                   for c in page.rows]
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    header = [_("Complaint no."), _("Intake time"), _("Status"), _("Class"), _("About"),
              _("Complainant"), _("Contact phone"), _("What the customer says"),
              _("Handling result"), _("Escalated"), _("Resolved"), _("Closed")]
    return csv_response(header, batches(), "complaints.csv")


def _store_evidence(upload) -> str | None:
    """Keep an uploaded photo in the content-addressed blob store; answer its sha256."""
    if upload is None or not getattr(upload, "filename", ""):
        return None
    data = upload.read()
    if not data:
        return None
    digest = hashlib.sha256(data).hexdigest()
    try:
        stored = store().ingest(io.BytesIO(data), digest, current_app.config["BLOB_MAX_BYTES"])
    except BlobError:
        raise FieldError("evidence", _("A JPEG, PNG or WebP image.")) from None
    if db.session.get(Blob, digest) is None:
        try:
            with db.session.begin_nested():
                db.session.add(Blob(sha256=digest, size=stored.size,
                                    content_type=stored.content_type, width=stored.width,
                                    height=stored.height, created_at=clock().now(),
                                    uploaded_by_id=web_actor().id))
        except IntegrityError:  # the same bytes arrived at the same moment
            pass
    return digest


def _new_form_choices(form: ComplaintForm) -> None:
    form.about_technician_id.choices = technician_choices(_("— Not about one technician —"))


def complaint_registered(complaint):
    to = url_for("dispatch.complaint_page", complaint_id=complaint.id)
    if complaint.severity == rules.MAJOR:
        return flashed(_("%(ref)s registered as a major complaint: report it to a "
                         "supervisor within the hour.", ref=complaint.ref), to, "warn")
    return flashed(_("%(ref)s registered.", ref=complaint.ref), to)


def refused(form):
    db.session.rollback()
    return render_template("dispatch/complaint_new.html", form=form), 400


@bp.route("/complaints/new", methods=["GET", "POST"])
def new_complaint():
    ctx = domain_ctx()
    form = ComplaintForm()
    _new_form_choices(form)
    job = None
    if request.method == "GET" and request.args.get("job"):
        job = db.session.get(Job, request.args["job"])
        if job is not None:
            form.job_ref.data = job.ref
            form.name.data = job.contact_name
            form.phone.data = job.contact_phone
            form.about_technician_id.data = job.technician_id
    if request.method == "POST":
        if form.validate():
            job_id = None
            ref = (form.job_ref.data or "").strip().upper()
            if ref:
                job_id = db.session.execute(select(Job.id).where(Job.ref == ref)).scalar()
                if job_id is None:
                    form.job_ref.errors = list(form.job_ref.errors) + [
                        _("No job has this reference.")]
            if not form.errors:
                return office_action(lambda: complaint_service.intake(ctx, web_actor(), {
                    "job_id": job_id, "about": form.about.data,
                    "severity": form.severity.data, "content": form.content.data,
                    "about_technician_id": form.about_technician_id.data,
                    "evidence_sha256": _store_evidence(form.evidence.data),
                    "customer": {"name": form.name.data.strip(),
                                 "phone": form.phone.data.strip()}}),
                    complaint_registered, render=lambda: refused(form), form=form)
        return refused(form)
    return render_template("dispatch/complaint_new.html", form=form, job=job)


def _complaint(complaint_id, for_update=False):
    try:
        return complaint_service.get_complaint(domain_ctx(), web_actor(), complaint_id,
                                               for_update=for_update)
    except NotFound:
        abort(404)


def render_complaint(complaint, contact_form=None, job_form=None, move_errors=None,
                     status=200):
    ctx = domain_ctx()
    now = clock().now()
    move_form = ComplaintMoveForm(formdata=None)
    move_form.supervisor_id.choices = opts([("", _("— Any supervisor —"))] + [
        (u.id, u.display_name) for u in pages.active_supervisors(db.session)])
    if job_form is None:
        source = complaint.job
        job_form = ComplaintJobForm(
            formdata=None, address=(source.address if source else complaint.customer.address),
            product_model=source.product_model if source else "",
            problem=_("Return visit for complaint %(ref)s: %(content)s", ref=complaint.ref,
                      content=complaint.content),
            day=desk.local_today(now, ctx.policy))
    job_form.technician_id.choices = technician_choices(_("— Not yet —"))
    return render_template(
        "dispatch/complaint.html", c=complaint, tz=ctx.policy.tz,
        **pages.complaint_page(db.session, complaint, now, ctx.policy, desk_settings()),
        move_form=move_form, move_errors=move_errors,
        contact_form=contact_form or ComplaintContactForm(formdata=None),
        job_form=job_form), status


@bp.route("/complaints/<complaint_id>")
def complaint_page(complaint_id):
    return render_complaint(_complaint(complaint_id))


@bp.route("/complaints/<complaint_id>/move", methods=["POST"])
def complaint_move(complaint_id):
    ctx = domain_ctx()
    complaint = _complaint(complaint_id, for_update=True)
    form = ComplaintMoveForm()
    form.supervisor_id.choices = opts([("", "")] + [
        (u.id, u.display_name) for u in pages.active_supervisors(db.session)])
    back = url_for("dispatch.complaint_page", complaint_id=complaint.id)
    if not form.validate():
        db.session.rollback()
        return flashed(_("Choose what to do."), back, "error")
    to = form.status.data
    changes = {"status": to, "note": form.note.data or None}
    if to == rules.ESCALATED:
        changes["supervisor_id"] = form.supervisor_id.data
    if to == rules.CLOSED:
        changes["customer_satisfied"] = bool(form.customer_satisfied.data)
    return office_action(
        lambda: complaint_service.update(ctx, web_actor(), complaint, changes),
        lambda _result: flashed(_("%(ref)s: %(status)s.", ref=complaint.ref,
                                  status=COMPLAINT_STATUS_LABELS[complaint.status]), back),
        back=back)


@bp.route("/complaints/<complaint_id>/contact", methods=["POST"])
def complaint_contact(complaint_id):
    ctx = domain_ctx()
    complaint = _complaint(complaint_id, for_update=True)
    form = ComplaintContactForm()
    satisfied = {"yes": True, "no": False}.get(form.satisfied.data)
    back = url_for("dispatch.complaint_page", complaint_id=complaint.id) + "#contacts"
    if refused := form_refused(
            form, lambda: render_complaint(complaint, contact_form=form, status=400)):
        return refused
    return office_action(
        lambda: complaint_service.record_contact(ctx, web_actor(), complaint,
                                                 form.outcome.data, form.note.data, satisfied),
        lambda _none: flashed(_("Call recorded."), back), back=back)


@bp.route("/complaints/<complaint_id>/jobs", methods=["POST"])
def complaint_job(complaint_id):
    ctx = domain_ctx()
    complaint = _complaint(complaint_id, for_update=True)
    form = ComplaintJobForm()
    form.technician_id.choices = technician_choices(_("— Not yet —"))
    if not form.validate():
        db.session.rollback()
        return render_complaint(complaint, job_form=form, status=400)
    start, end = form.window(ctx.policy.tz)
    return office_action(
        lambda: complaint_service.spawn_job(ctx, web_actor(), complaint, {
            "type": form.type.data, "address": form.address.data,
            "product_model": form.product_model.data, "problem": form.problem.data,
            "technician_id": form.technician_id.data, "scheduled_start": start,
            "scheduled_end": end}),
        lambda job: flashed(_("Return visit %(ref)s created.", ref=job.ref),
                            url_for("dispatch.job_page", job_id=job.id)),
        back=url_for("dispatch.complaint_page", complaint_id=complaint.id))


@bp.route("/complaints/<complaint_id>/evidence")
def complaint_evidence(complaint_id):
    complaint = _complaint(complaint_id)
    blob = db.session.get(Blob, complaint.evidence_sha256) if complaint.evidence_sha256 else None
    if blob is None or not store().exists(blob.sha256):
        abort(404)
    response = Response(store().open(blob.sha256), mimetype=blob.content_type,
                        direct_passthrough=True)
    response.headers["Content-Length"] = str(blob.size)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response

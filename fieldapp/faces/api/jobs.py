from datetime import datetime, time, timedelta

from flask import g, jsonify, request, url_for
from flask_babel import get_locale
from marshmallow import RAISE
from sqlalchemy import func, select

from fieldapp.core.roles import DISPATCH_ROLES, OFFICE_ROLES, REVIEW_ROLES, TECHNICIAN
from fieldapp.documents.service_report import pdf_response
from fieldapp.extensions import db
from fieldapp.faces.shared import email_customer
from fieldapp.jobs import service as job_service
from fieldapp.jobs.models import Job
from fieldapp.jobs.views import clocks_for, job_detail, job_summary
from fieldapp.web import clock, domain_ctx

from .auth_tokens import api_actor, token_required
from .errors import errors_doc
from .parsing import ApiBlueprint as Blueprint
from .schemas import (
    ContactSchema,
    JobCreateSchema,
    JobDetailSchema,
    JobListQuerySchema,
    JobListSchema,
    JobPatchSchema,
    NoteInSchema,
    ReviewSchema,
)

blp = Blueprint("api_jobs", __name__, url_prefix="/api/v1/jobs",
                description="Intake, the job list, dispatcher changes, contact log, review.")


def _detail(job: Job, status: int = 200):
    db.session.refresh(job)
    response = jsonify(job_detail(db.session, job, g.api_user, clock().now()))
    response.status_code = status
    return response


@blp.route("", methods=["POST"])
@token_required(DISPATCH_ROLES)
@blp.arguments(JobCreateSchema)
@blp.response(201, JobDetailSchema)
def create_job(body):
    """Intake: the after-sales problem registration form becomes a job."""
    job = job_service.intake(domain_ctx(), api_actor(), body)
    db.session.commit()
    response = _detail(job, 201)
    response.headers["Location"] = url_for("api_jobs.get_job", job_id=job.id)
    return response


@blp.route("", methods=["GET"])
@token_required()
# unknown=RAISE: a misspelt filter (?statuss=) is a 422 naming it, not the whole list.
@blp.arguments(JobListQuerySchema, location="query", unknown=RAISE)
@blp.response(200, JobListSchema)
def list_jobs(query):
    """Jobs, newest first; a technician sees only their own."""
    stmt = select(Job)
    if g.api_user.role == TECHNICIAN:
        stmt = stmt.where(Job.technician_id == g.api_user.id)
    if query.get("status"):
        stmt = stmt.where(Job.status == query["status"])
    if query.get("technician_id") is not None:
        stmt = stmt.where(Job.technician_id == query["technician_id"])
    if query.get("date"):
        tz = domain_ctx().policy.tz
        start = datetime.combine(query["date"], time(0), tz)
        stmt = stmt.where(Job.scheduled_start >= start,
                          Job.scheduled_start < start + timedelta(days=1))
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar()
    jobs = db.session.execute(stmt.order_by(Job.created_at.desc(), Job.id)
                              .limit(query["limit"]).offset(query["offset"])).scalars().all()
    clocks = clocks_for(db.session, [j.id for j in jobs])
    now = clock().now()
    return jsonify({"items": [job_summary(j, g.api_user, clocks[j.id], now) for j in jobs],
                    "total": total, "limit": query["limit"], "offset": query["offset"]})


@blp.route("/<job_id>", methods=["GET"])
@token_required()
@blp.response(200, JobDetailSchema)
def get_job(job_id):
    """One job with its answers, photos, signatures, notes, events and conflicts."""
    job = job_service.get_job(domain_ctx(), api_actor(), job_id)
    return _detail(job)


@blp.route("/<job_id>", methods=["PATCH"])
@errors_doc({409: "job_closed, illegal_transition: the job's status refuses this change"})
@token_required(DISPATCH_ROLES)
@blp.arguments(JobPatchSchema)
@blp.response(200, JobDetailSchema)
def patch_job(body, job_id):
    """Dispatcher changes: assign or reassign, reschedule, cancel with a reason."""
    ctx = domain_ctx()
    job = job_service.get_job(ctx, api_actor(), job_id, for_update=True)
    job_service.update_job(ctx, api_actor(), job, body)
    db.session.commit()
    return _detail(job)


@blp.route("/<job_id>/contact", methods=["POST"])
@errors_doc({409: "job_closed, illegal_transition: the job's status refuses this change"})
@token_required(DISPATCH_ROLES)
@blp.arguments(ContactSchema)
@blp.response(201, JobDetailSchema)
def contact(body, job_id):
    """Record a phone call to the customer; reaching them meets the first-contact clock."""
    ctx = domain_ctx()
    job = job_service.get_job(ctx, api_actor(), job_id, for_update=True)
    job_service.record_contact(ctx, api_actor(), job, body["outcome"], body.get("note"))
    db.session.commit()
    return _detail(job, 201)


@blp.route("/<job_id>/notes", methods=["POST"])
@errors_doc({409: "job_closed, illegal_transition: the job's status refuses this change"})
@token_required(OFFICE_ROLES)
@blp.arguments(NoteInSchema)
@blp.response(201, JobDetailSchema)
def add_note(body, job_id):
    """An office note on the job (the technician sees it on the phone)."""
    ctx = domain_ctx()
    job = job_service.get_job(ctx, api_actor(), job_id, for_update=True)
    job_service.add_note(ctx, api_actor(), job, body["text"])
    db.session.commit()
    return _detail(job, 201)


@blp.route("/<job_id>/review", methods=["POST"])
@errors_doc({409: "job_closed, illegal_transition: the job's status refuses this change"})
@token_required(REVIEW_ROLES)
@blp.arguments(ReviewSchema)
@blp.response(200, JobDetailSchema)
def review(body, job_id):
    """Supervisor decision: approve a completed job, or send it back with a comment."""
    ctx = domain_ctx()
    job = job_service.get_job(ctx, api_actor(), job_id, for_update=True)
    job_service.review(ctx, api_actor(), job, body["decision"], body.get("comment"))
    db.session.commit()
    if body["decision"] == "approve":
        email_customer(job)
    return _detail(job)


@blp.route("/<job_id>/report.pdf", methods=["GET"])
@token_required(OFFICE_ROLES)
@blp.response(200, content_type="application/pdf")
def report_pdf(job_id):
    """The service report (服务记录单) as a PDF; `?lang=en` or `zh` (else the caller's
    language). Office roles only."""

    job = job_service.get_job(domain_ctx(), api_actor(), job_id)
    return pdf_response(job, request.args.get("lang") or str(get_locale() or "zh"))

from datetime import datetime, time, timedelta

from flask import g, jsonify, url_for
from marshmallow import RAISE
from sqlalchemy import func, select

from fieldapp.core.roles import DISPATCH_ROLES, OFFICE_ROLES, REVIEW_ROLES, TECHNICIAN
from fieldapp.documents.service_report import pdf_response
from fieldapp.extensions import db
from fieldapp.faces.shared import email_customer
from fieldapp.jobs import service as job_service
from fieldapp.jobs.models import Job
from fieldapp.jobs.views import clocks_for, job_detail, job_summary
from fieldapp.web import clock, document_language, domain_ctx

from .auth_tokens import api_actor
from .changes import changing
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

# What a change to a job may answer besides its shape's errors.
JOB_REFUSES = {409: "job_closed, illegal_transition: the job's status refuses this change"}


def _detail(job: Job, status: int = 200):
    db.session.refresh(job)
    response = jsonify(job_detail(db.session, job, g.api_user, clock().now()))
    response.status_code = status
    return response


@blp.endpoint("POST", "", roles=DISPATCH_ROLES, body=JobCreateSchema,
              answers=(201, JobDetailSchema))
def create_job(body):
    """Intake: the after-sales problem registration form becomes a job."""
    job = job_service.intake(domain_ctx(), api_actor(), body)
    db.session.commit()
    response = _detail(job, 201)
    response.headers["Location"] = url_for("api_jobs.get_job", job_id=job.id)
    return response


# unknown=RAISE: a misspelt filter (?statuss=) is a 422 naming it, not the whole list.
@blp.endpoint("GET", "", query=JobListQuerySchema, query_options={"unknown": RAISE},
              answers=(200, JobListSchema))
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


@blp.endpoint("GET", "/<job_id>", answers=(200, JobDetailSchema))
def get_job(job_id):
    """One job with its answers, photos, signatures, notes, events and conflicts."""
    job = job_service.get_job(domain_ctx(), api_actor(), job_id)
    return _detail(job)


@blp.endpoint("PATCH", "/<job_id>", roles=DISPATCH_ROLES, body=JobPatchSchema,
              answers=(200, JobDetailSchema), errors={409: JOB_REFUSES[409] + (
                  "; job_under_way: cancelling a job under way needs \"override\": true")})
def patch_job(body, job_id):
    """Dispatcher changes: assign or reassign, reschedule, cancel with a reason."""
    with changing(job_service.get_job, job_id) as (ctx, actor, job):
        job_service.update_job(ctx, actor, job, body)
    return _detail(job)


@blp.endpoint("POST", "/<job_id>/contact", roles=DISPATCH_ROLES, body=ContactSchema,
              answers=(201, JobDetailSchema), errors=JOB_REFUSES)
def contact(body, job_id):
    """Record a phone call to the customer; reaching them meets the first-contact clock."""
    with changing(job_service.get_job, job_id) as (ctx, actor, job):
        job_service.record_contact(ctx, actor, job, body["outcome"], body.get("note"))
    return _detail(job, 201)


@blp.endpoint("POST", "/<job_id>/notes", roles=OFFICE_ROLES, body=NoteInSchema,
              answers=(201, JobDetailSchema), errors=JOB_REFUSES)
def add_note(body, job_id):
    """An office note on the job (the technician sees it on the phone)."""
    with changing(job_service.get_job, job_id) as (ctx, actor, job):
        job_service.add_note(ctx, actor, job, body["text"])
    return _detail(job, 201)


@blp.endpoint("POST", "/<job_id>/review", roles=REVIEW_ROLES, body=ReviewSchema,
              answers=(200, JobDetailSchema), errors={409: JOB_REFUSES[409] + (
                  "; open_complaints: a complaint about the job is open (approve needs "
                  "\"override\": true and a comment)")})
def review(body, job_id):
    """Supervisor decision: approve a completed job, or send it back with a comment."""
    with changing(job_service.get_job, job_id) as (ctx, actor, job):
        job_service.review(ctx, actor, job, body["decision"], body.get("comment"),
                           override=body.get("override") is True)
    if body["decision"] == "approve":
        email_customer(job)
    return _detail(job)


@blp.endpoint("GET", "/<job_id>/report.pdf", roles=OFFICE_ROLES, answers=(200,),
              content_type="application/pdf")
def report_pdf(job_id):
    """The service report (服务记录单) as a PDF; `?lang=en` or `zh` (else the caller's
    language). Office roles only."""

    job = job_service.get_job(domain_ctx(), api_actor(), job_id)
    return pdf_response(job, document_language())

"""Complaints: `POST/GET /api/v1/complaints`, `GET/PATCH /api/v1/complaints/<id>` (the
contract), plus the contact log and the spawned return-visit job. Dispatchers and admins."""
from flask import g, jsonify, url_for
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from fieldapp.complaints import service as complaint_service
from fieldapp.complaints.models import Complaint
from fieldapp.complaints.service import RETURN_JOB_TYPES
from fieldapp.core import complaints as rules
from fieldapp.core.roles import DISPATCH_ROLES, OFFICE_ROLES
from fieldapp.desk import service as desk
from fieldapp.extensions import db
from fieldapp.jobs.service import CONTACT_OUTCOMES, PRIORITIES
from fieldapp.jobs.views import clocks_for, job_summary
from fieldapp.web import clock, domain_ctx

from .auth_tokens import api_actor
from .changes import changing
from .parsing import ApiBlueprint as Blueprint
from .schemas import AuditEventOutSchema, JobSchema, RowId, SlaClockSchema, Strict, StrictBoolean

blp = Blueprint("api_complaints", __name__, url_prefix="/api/v1/complaints",
                description="Complaints: intake, classification, escalation, contacts, "
                            "closing with the customer satisfied, return-visit jobs.")


class ComplainantSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phone = fields.String(required=True, validate=validate.Length(min=5, max=32))
    address = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=500))


class ComplaintCreateSchema(Strict):
    job_id = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "the job complained about, if any"})
    customer = fields.Nested(ComplainantSchema, load_default=None, allow_none=True, metadata={
        "description": "the complainant; taken from the job when omitted"})
    about = fields.String(required=True, validate=validate.OneOf(rules.ABOUT))
    content = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    severity = fields.String(required=True, validate=validate.OneOf(rules.SEVERITIES))
    about_technician_id = RowId(load_default=None, allow_none=True, strict=True)
    evidence_sha256 = fields.String(load_default=None, allow_none=True, metadata={
        "description": "an image already uploaded with PUT /api/v1/blobs/<sha256>"})


class ComplaintPatchSchema(Strict):
    status = fields.String(validate=validate.OneOf(rules.STATUSES))
    note = fields.String(validate=validate.Length(max=4000))
    severity = fields.String(validate=validate.OneOf(rules.SEVERITIES), metadata={
        "description": "reclassify a general complaint as major (starts the escalation clock)"})
    supervisor_id = RowId(allow_none=True, strict=True, metadata={
        "description": "with status escalated: the supervisor it is reported to"})
    result = fields.String(validate=validate.Length(max=4000), metadata={
        "description": "with status resolved: how it was resolved (else the note)"})
    customer_satisfied = StrictBoolean(metadata={
        "description": "with status closed: the customer said they are satisfied"})

    @validates_schema
    def _names_a_change(self, data, **kwargs):
        if not set(data) & {"status", "note", "severity"}:
            raise ValidationError("Name a change: status, note or severity.", "_schema")


class ComplaintListQuerySchema(Strict):
    status = fields.String(validate=validate.OneOf(rules.STATUSES))
    severity = fields.String(validate=validate.OneOf(rules.SEVERITIES))
    q = fields.String(load_default="", validate=validate.Length(max=200),
                      metadata={"description": "reference, phone or name"})
    cursor = fields.String(load_default="", validate=validate.Length(max=200), metadata={
        "description": "next_cursor of the previous page (opaque); a cursor the server did "
                       "not make answers 400 bad_cursor"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))


class ComplaintContactSchema(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(CONTACT_OUTCOMES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    satisfied = StrictBoolean(load_default=None, allow_none=True)


class ComplaintJobSchema(Strict):
    type = fields.String(required=True, validate=validate.OneOf(RETURN_JOB_TYPES))
    product_model = fields.String(validate=validate.Length(max=200))
    problem = fields.String(validate=validate.Length(max=4000))
    address = fields.String(validate=validate.Length(max=500))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    scheduled_start = fields.AwareDateTime(allow_none=True, default_timezone=None)
    scheduled_end = fields.AwareDateTime(allow_none=True, default_timezone=None)
    technician_id = RowId(allow_none=True, strict=True)


class ComplainantOutSchema(Schema):
    id = fields.String()
    name = fields.String()
    phone = fields.String()


class ComplaintSchema(Schema):
    """What fieldapp.complaints.service.summary answers, field for field."""
    id = fields.String()
    ref = fields.String()
    status = fields.String(metadata={"enum": list(rules.STATUSES)})
    severity = fields.String(metadata={"enum": list(rules.SEVERITIES)})
    about = fields.String(metadata={"enum": list(rules.ABOUT)})
    about_technician_id = fields.Integer(allow_none=True)
    content = fields.String()
    job_id = fields.String(allow_none=True)
    customer = fields.Nested(ComplainantOutSchema)
    evidence_sha256 = fields.String(allow_none=True)
    result = fields.String(allow_none=True)
    customer_satisfied = fields.Boolean(allow_none=True)
    escalated_to_id = fields.Integer(allow_none=True)
    escalated_at = fields.String(allow_none=True)
    resolved_at = fields.String(allow_none=True)
    closed_at = fields.String(allow_none=True)
    created_at = fields.String()
    updated_at = fields.String()
    sla = fields.List(fields.Nested(SlaClockSchema))


class ComplaintContactOutSchema(Schema):
    id = fields.Integer()
    outcome = fields.String(metadata={"enum": list(CONTACT_OUTCOMES)})
    satisfied = fields.Boolean(allow_none=True)
    note = fields.String(allow_none=True)
    by_id = fields.Integer()
    at = fields.String()


class SpawnedJobSchema(Schema):
    id = fields.String()
    ref = fields.String()
    type = fields.String()
    status = fields.String()


class ComplaintEventSchema(AuditEventOutSchema):
    server_at = fields.String()


class ComplaintDetailSchema(ComplaintSchema):
    contacts = fields.List(fields.Nested(ComplaintContactOutSchema))
    jobs = fields.List(fields.Nested(SpawnedJobSchema))
    events = fields.List(fields.Nested(ComplaintEventSchema))


class SpawnResultSchema(Schema):
    job = fields.Nested(JobSchema)
    complaint = fields.Nested(ComplaintDetailSchema)


class ComplaintListSchema(Schema):
    items = fields.List(fields.Nested(ComplaintSchema))
    total = fields.Integer()
    next_cursor = fields.String(allow_none=True)


# What a change to a complaint may answer besides its shape's errors.
COMPLAINT_REFUSES = {409: "complaint_closed, illegal_complaint_transition, severity_downgrade: "
                          "the complaint's status refuses this change"}


def _detail(complaint: Complaint, status: int = 200):
    db.session.refresh(complaint)
    response = jsonify(complaint_service.detail(db.session, complaint, clock().now()))
    response.status_code = status
    return response


@blp.endpoint("POST", "", roles=DISPATCH_ROLES, body=ComplaintCreateSchema,
              answers=(201, ComplaintDetailSchema),
              errors={404: "job_not_found: no job with this job_id"})
def create_complaint(body):
    """Register a complaint; its clocks start now (major: escalation 1 h; coordination 24 h)."""
    complaint = complaint_service.intake(domain_ctx(), api_actor(), body)
    db.session.commit()
    response = _detail(complaint, 201)
    response.headers["Location"] = url_for("api_complaints.get_complaint",
                                           complaint_id=complaint.id)
    return response


@blp.endpoint("GET", "", roles=OFFICE_ROLES, query=ComplaintListQuerySchema,
              answers=(200, ComplaintListSchema),
              errors={400: "bad_cursor: the page link is not valid; start from the first page"})
def list_complaints(query):
    """Complaints, newest first, by status, severity, reference, phone or name."""
    ctx = domain_ctx()
    page = desk.search_complaints(db.session, desk.ComplaintFilter(
        q=query["q"], status=query.get("status", ""), severity=query.get("severity", "")),
        ctx.policy, query["cursor"], query["limit"])
    clocks = complaint_service.clocks_for(db.session, [c.id for c in page.rows])
    now = clock().now()
    return jsonify({"items": [complaint_service.summary(c, clocks[c.id], now)
                              for c in page.rows],
                    "total": page.total, "next_cursor": page.next_cursor})


@blp.endpoint("GET", "/<complaint_id>", roles=OFFICE_ROLES, answers=(200, ComplaintDetailSchema))
def get_complaint(complaint_id):
    """One complaint with its clocks, contacts, spawned jobs and audit trail (supervisors
    may read it too)."""
    return _detail(complaint_service.get_complaint(domain_ctx(), api_actor(), complaint_id,
                                                   read_only=True))


@blp.endpoint("PATCH", "/<complaint_id>", roles=DISPATCH_ROLES, body=ComplaintPatchSchema,
              answers=(200, ComplaintDetailSchema), errors=COMPLAINT_REFUSES)
def patch_complaint(body, complaint_id):
    """Move the status (with a note), add a note, or reclassify as major."""
    with changing(complaint_service.get_complaint, complaint_id) as (ctx, actor, complaint):
        complaint_service.update(ctx, actor, complaint, body)
    return _detail(complaint)


@blp.endpoint("POST", "/<complaint_id>/contacts", roles=DISPATCH_ROLES, body=ComplaintContactSchema,
              answers=(201, ComplaintDetailSchema), errors=COMPLAINT_REFUSES)
def add_contact(body, complaint_id):
    """Log a call with the complainant (reached: whether they are satisfied)."""
    with changing(complaint_service.get_complaint, complaint_id) as (ctx, actor, complaint):
        complaint_service.record_contact(ctx, actor, complaint, body["outcome"],
                                         body.get("note"), body.get("satisfied"))
    return _detail(complaint, 201)


@blp.endpoint("POST", "/<complaint_id>/jobs", roles=DISPATCH_ROLES, body=ComplaintJobSchema,
              answers=(201, SpawnResultSchema),
              description="The new job and the complaint it is linked to", errors=COMPLAINT_REFUSES)
def spawn_job(body, complaint_id):
    """Create a return-visit job (inspection or repair) for the complainant."""
    with changing(complaint_service.get_complaint, complaint_id) as (ctx, actor, complaint):
        job = complaint_service.spawn_job(ctx, actor, complaint, body)
    db.session.refresh(job)
    now = clock().now()
    out = {"job": job_summary(job, g.api_user, clocks_for(db.session, [job.id])[job.id], now),
           "complaint": complaint_service.detail(db.session, complaint, now)}
    response = jsonify(out)
    response.status_code = 201
    response.headers["Location"] = url_for("api_jobs.get_job", job_id=job.id)
    return response

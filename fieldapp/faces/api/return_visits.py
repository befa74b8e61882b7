"""Return visits (回访): `GET /api/v1/return-visits?job_id=&status=` and
`POST /api/v1/return-visits/<id>/result` (the office's phone call), `POST .../<id>/resend`
(a new survey link). Dispatchers, supervisors and admins; technicians get 403."""
from flask import jsonify
from marshmallow import Schema, fields, validate

from fieldapp.core.roles import OFFICE_ROLES
from fieldapp.extensions import db
from fieldapp.visits import service as visit_service
from fieldapp.web import clock, domain_ctx

from .auth_tokens import api_actor
from .parsing import ApiBlueprint as Blueprint
from .schemas import Strict

blp = Blueprint("api_return_visits", __name__, url_prefix="/api/v1/return-visits",
                description="Return visits (回访) after approval: the office's call or the "
                            "customer's survey; a low score or an open issue opens a "
                            "complaint or a follow-up job by itself.")


class ReturnVisitQuerySchema(Strict):
    job_id = fields.String(load_default=None, validate=validate.Length(max=64))
    status = fields.String(load_default=None, validate=validate.OneOf(visit_service.STATUSES))


class ReturnVisitResultSchema(Strict):
    score = fields.Integer(required=True, strict=True,
                           validate=validate.OneOf(visit_service.SCORES),
                           metadata={"description": "1 (very unhappy) .. 5 (very satisfied)"})
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=visit_service.MAX_TEXT))
    issues = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=visit_service.MAX_TEXT), metadata={
                               "description": "problems still open: opens a follow-up job"})


class ReturnVisitSchema(Schema):
    """What fieldapp.visits.service.as_dict answers, field for field."""
    id = fields.Integer()
    job_id = fields.String()
    job_ref = fields.String()
    technician_id = fields.Integer(allow_none=True)
    due_at = fields.String()
    status = fields.String(metadata={"enum": list(visit_service.STATUSES)})
    overdue = fields.Boolean()
    channel = fields.String(allow_none=True, metadata={"enum": ["phone", "survey"]})
    score = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)
    issues = fields.String(allow_none=True)
    recorded_by_id = fields.Integer(allow_none=True)
    answered_at = fields.String(allow_none=True)
    survey_url = fields.String(allow_none=True, metadata={
        "description": "the customer's single-use link while it can be answered"})
    survey_expires_at = fields.String(allow_none=True)
    survey_sent_at = fields.String(allow_none=True)
    complaint_id = fields.String(allow_none=True)
    complaint_ref = fields.String(allow_none=True)
    followup_job_id = fields.String(allow_none=True)
    followup_job_ref = fields.String(allow_none=True)
    created_at = fields.String()


class ReturnVisitListSchema(Schema):
    items = fields.List(fields.Nested(ReturnVisitSchema))


@blp.endpoint("GET", "", roles=OFFICE_ROLES, query=ReturnVisitQuerySchema,
              answers=(200, ReturnVisitListSchema))
def list_return_visits(query):
    """Return visits; unanswered (`status=due`) oldest due first, else newest first."""
    now = clock().now()
    visits = visit_service.list_visits(db.session, job_id=query.get("job_id"),
                                       status=query.get("status"))
    return jsonify({"items": [visit_service.as_dict(v, now) for v in visits]})


@blp.endpoint("POST", "/<int:visit_id>/result", roles=OFFICE_ROLES, body=ReturnVisitResultSchema,
              answers=(200, ReturnVisitSchema),
              errors={409: "return_visit_answered: the first answer stands"})
def record_result(body, visit_id):
    """Record the office's call: once. A score of 3 or less opens a complaint; open issues
    open a follow-up repair job; a second answer is refused (409) and changes nothing."""
    ctx = domain_ctx()
    visit = visit_service.record_result(ctx, api_actor(), visit_id, body["score"],
                                        body.get("comment"), body.get("issues"))
    db.session.commit()
    db.session.refresh(visit)
    return jsonify(visit_service.as_dict(visit, clock().now()))


@blp.endpoint("POST", "/<int:visit_id>/resend", roles=OFFICE_ROLES,
              answers=(200, ReturnVisitSchema),
              errors={409: "return_visit_answered, no_customer_contact: no new link"})
def resend_survey(visit_id):
    """Send the customer a new survey link, valid 14 days; the old link stops working.
    Refused (409) once the visit is answered or when the customer has neither a phone
    number nor an e-mail address."""
    ctx = domain_ctx()
    visit = visit_service.resend_survey(ctx, api_actor(), visit_id)
    db.session.commit()
    db.session.refresh(visit)
    return jsonify(visit_service.as_dict(visit, clock().now()))

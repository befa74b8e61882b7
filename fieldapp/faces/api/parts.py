"""Parts requests and take-back receipts (issue 8): the contract's
`GET /api/v1/parts-requests?status=`, `POST /api/v1/parts-requests/<id>/decision` and
`GET /api/v1/takebacks?status=`, plus the warehouse release and the receipt / repair-slip
PDFs. Technicians see only their own jobs' rows; decisions are supervisors' and admins'."""
from datetime import timedelta

from flask import g, jsonify
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from fieldapp.core.errors import NotFound
from fieldapp.core.roles import OFFICE_ROLES, REVIEW_ROLES
from fieldapp.extensions import db
from fieldapp.parts import service as parts_service
from fieldapp.parts.documents import pdf_response
from fieldapp.parts.models import PartsRequest, Takeback
from fieldapp.web import clock, document_language, domain_ctx

from .auth_tokens import api_actor
from .parsing import ApiBlueprint as Blueprint
from .schemas import QueryFlag, Strict, offset_page_schema

blp = Blueprint("api_parts", __name__, url_prefix="/api/v1/parts-requests",
                description="Parts requests from the phone: the after-sales queue, decisions "
                            "with the approver recorded, the warehouse release.")
takeback_blp = Blueprint("api_takebacks", __name__, url_prefix="/api/v1/takebacks",
                         description="Take-back receipts: products out for repair and back.")


class PartsListQuerySchema(Strict):
    status = fields.String(validate=validate.OneOf(
        (*parts_service.PARTS_STATUSES, "released")))
    kind = fields.String(validate=validate.OneOf(parts_service.PARTS_KINDS))
    cause = fields.String(validate=validate.OneOf(parts_service.CAUSES))
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class DecisionSchema(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(parts_service.DECISIONS))
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=2000),
                           metadata={"description": "required to refuse"})
    cause = fields.String(load_default=None, allow_none=True,
                          validate=validate.OneOf(parts_service.CAUSES),
                          metadata={"description": "the cause for the parts log; an approval "
                                                   "needs one (from here or the phone)"})


class ReleaseSchema(Strict):
    pass


class PartsRequestSchema(Schema):
    """What fieldapp.parts.service.parts_dict answers, field for field."""
    id = fields.String()
    request_id = fields.String(metadata={"description": "the same as id (the phone's name)"})
    job_id = fields.String()
    job_ref = fields.String(allow_none=True)
    part_name = fields.String()
    quantity = fields.Integer()
    kind = fields.String(metadata={"enum": list(parts_service.PARTS_KINDS)})
    reason = fields.String()
    status = fields.String(metadata={"enum": list(parts_service.PARTS_STATUSES)})
    cause = fields.String(allow_none=True)
    photo_sha256s = fields.List(fields.String())
    created_at = fields.String()
    requested_by_id = fields.Integer()
    decided_by_id = fields.Integer(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.String(allow_none=True)
    decision_reason = fields.String(allow_none=True)
    released_at = fields.String(allow_none=True)
    released_by = fields.String(allow_none=True)


PartsListSchema = offset_page_schema("PartsListSchema", PartsRequestSchema)


class TakebackListQuerySchema(Strict):
    status = fields.String(validate=validate.OneOf(parts_service.TAKEBACK_STATUSES))
    overdue = QueryFlag(load_default=None, allow_none=True, metadata={
        "description": "true or 1: only those out too long; false or 0: the others"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class TakebackSchema(Schema):
    """What fieldapp.parts.service.takeback_dict answers, with `overdue`."""
    receipt_id = fields.String()
    receipt_no = fields.String(allow_none=True)
    job_id = fields.String()
    job_ref = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(parts_service.TAKEBACK_STATUSES)})
    items = fields.List(fields.Dict())
    condition = fields.String()
    photo_sha256s = fields.List(fields.String())
    signer_name = fields.String(allow_none=True)
    taken_at = fields.String()
    taken_by = fields.String(allow_none=True)
    returned_at = fields.String(allow_none=True)
    returned_on_job_id = fields.String(allow_none=True)
    receipt_retrieved = fields.Boolean(allow_none=True)
    return_note = fields.String(allow_none=True)
    product_model = fields.String(allow_none=True)
    followup_job_id = fields.String(allow_none=True)
    followup_ref = fields.String(allow_none=True)
    followup_status = fields.String(allow_none=True)
    overdue = fields.Boolean()


class TakebackListSchema(Schema):
    items = fields.List(fields.Nested(TakebackSchema))
    total = fields.Integer()
    overdue_days = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


def _page(stmt, order, limit, offset):
    total = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar()
    rows = db.session.execute(stmt.order_by(*order).limit(limit).offset(offset)
                              ).scalars().all()
    return total, rows


@blp.endpoint("GET", "", query=PartsListQuerySchema, answers=(200, PartsListSchema))
def list_parts(query):
    """Parts requests, oldest first (the queue's order); a technician sees only their jobs'."""
    stmt = parts_service.parts_query(g.api_user, query.get("status"), query.get("kind"),
                                     query.get("cause"))
    total, rows = _page(stmt, (PartsRequest.created_at, PartsRequest.id), query["limit"],
                        query["offset"])
    return jsonify({"items": [parts_service.parts_dict(p) for p in rows], "total": total,
                    "limit": query["limit"], "offset": query["offset"]})


@blp.endpoint("GET", "/<request_id>", answers=(200, PartsRequestSchema))
def get_parts(request_id):
    """One parts request."""
    return jsonify(parts_service.parts_dict(
        parts_service.get_request(domain_ctx(), api_actor(), request_id)))


@blp.endpoint("POST", "/<request_id>/decision", roles=REVIEW_ROLES, body=DecisionSchema,
              answers=(200, PartsRequestSchema),
              errors={409: "already_decided: this parts request was already decided"})
def decide(body, request_id):
    """Approve (with the cause) or refuse (with a reason); the approver is recorded."""
    parts = parts_service.decide(domain_ctx(), api_actor(), request_id, body["decision"],
                                 body.get("reason"), body.get("cause"))
    db.session.commit()
    return jsonify(parts_service.parts_dict(parts))


@blp.endpoint("POST", "/<request_id>/release", roles=OFFICE_ROLES, body=ReleaseSchema,
              answers=(200, PartsRequestSchema),
              errors={409: "parts_not_approved, already_released: not released"})
def release(body, request_id):
    """The warehouse release (出库): refused unless the request is approved."""
    parts = parts_service.release(domain_ctx(), api_actor(), request_id)
    db.session.commit()
    return jsonify(parts_service.parts_dict(parts))


@takeback_blp.endpoint("GET", "", query=TakebackListQuerySchema, answers=(200, TakebackListSchema))
def list_takebacks(query):
    """Take-back receipts, oldest first; `overdue=true` only those out too long."""
    now = clock().now()
    days = parts_service.overdue_days(db.session)
    stmt = parts_service.takebacks_query(g.api_user, query.get("status"))
    if query.get("overdue") is not None:
        limit = now - timedelta(days=days)
        stmt = stmt.where(Takeback.status == "out", Takeback.taken_at < limit) \
            if query["overdue"] else stmt.where(
                (Takeback.status != "out") | (Takeback.taken_at >= limit))
    total, rows = _page(stmt, (Takeback.taken_at, Takeback.id), query["limit"],
                        query["offset"])
    items = [{**parts_service.takeback_dict(t),
              "overdue": parts_service.is_overdue(t, now, days)} for t in rows]
    return jsonify({"items": items, "total": total, "overdue_days": days,
                    "limit": query["limit"], "offset": query["offset"]})


def _takeback(receipt_id: str) -> Takeback:
    stmt = parts_service.takebacks_query(g.api_user).where(Takeback.id == receipt_id)
    takeback = db.session.execute(stmt).scalar_one_or_none() if len(receipt_id) <= 36 else None
    if takeback is None:
        raise NotFound("takeback")
    return takeback


@takeback_blp.endpoint("GET", "/<receipt_id>", answers=(200, TakebackSchema))
def get_takeback(receipt_id):
    """One receipt."""
    takeback = _takeback(receipt_id)
    return jsonify({**parts_service.takeback_dict(takeback), "overdue": parts_service.is_overdue(
        takeback, clock().now(), parts_service.overdue_days(db.session))})


@takeback_blp.endpoint("GET", "/<receipt_id>/receipt.pdf", roles=OFFICE_ROLES, answers=(200,),
                       content_type="application/pdf")
def receipt_pdf(receipt_id):
    """The take-back receipt (取件收据) as a PDF; `?lang=en` or `zh`."""

    return pdf_response(_takeback(receipt_id), "receipt", document_language())


@takeback_blp.endpoint("GET", "/<receipt_id>/repair-slip.pdf", roles=OFFICE_ROLES, answers=(200,),
                       content_type="application/pdf")
def slip_pdf(receipt_id):
    """The repair slip (维修单) the customer signs on return, as a PDF."""

    return pdf_response(_takeback(receipt_id), "slip", document_language())

"""`GET /api/v1/notifications` (the contract): the signed-in user's notifications, newest
first; `POST /api/v1/notifications/<id>/read` and `/read-all` mark them read. Any role: the
phone shows a technician's, the desk and review pages the office's."""
from flask import g, jsonify
from marshmallow import Schema, fields, validate

from fieldapp.core.errors import NotFound
from fieldapp.db import begin_write
from fieldapp.extensions import db
from fieldapp.notifications import service
from fieldapp.notifications.models import Notification
from fieldapp.web import domain_ctx

from .parsing import ApiBlueprint as Blueprint
from .schemas import QueryFlag, RowId, Strict

blp = Blueprint("api_notifications", __name__, url_prefix="/api/v1/notifications",
                description="The signed-in user's notifications (SLA breaches, escalations, "
                            "reminders of tomorrow's jobs, ...).")


class NotificationSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    created_at = fields.String()
    read = fields.Boolean()
    subject = fields.String()
    body = fields.String()
    job_id = fields.String(allow_none=True)
    complaint_id = fields.String(allow_none=True)


class NotificationListSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    unread = fields.Integer()


class NotificationQuerySchema(Strict):
    unread = QueryFlag(load_default=False, metadata={"description": "true or 1: unread only"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    before_id = RowId(load_default=None, allow_none=True,
                      metadata={"description": "the next page: older than this id"})


@blp.endpoint("GET", "", query=NotificationQuerySchema, answers=(200, NotificationListSchema))
def list_notifications(query):
    """The signed-in user's notifications, newest first, and how many are unread."""
    rows = service.for_user(db.session, g.api_user.id, unread_only=query["unread"],
                            limit=query["limit"], before_id=query["before_id"])
    return jsonify({"items": [service.public(n) for n in rows],
                    "unread": service.unread_count(db.session, g.api_user.id)})


@blp.endpoint("POST", "/<int:notification_id>/read", answers=(200, NotificationSchema))
def read_notification(notification_id):
    """Mark one of the user's notifications read (another user's is not found)."""
    begin_write(db.session)
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != g.api_user.id:
        raise NotFound("notification")
    service.mark_read(domain_ctx(), g.api_user.id, notification_id)
    db.session.commit()
    db.session.refresh(row)
    return jsonify(service.public(row))


@blp.endpoint("POST", "/read-all", answers=(200, NotificationListSchema))
def read_all():
    """Mark all of the user's notifications read."""
    begin_write(db.session)
    service.mark_read(domain_ctx(), g.api_user.id)
    db.session.commit()
    return jsonify({"items": [], "unread": 0})

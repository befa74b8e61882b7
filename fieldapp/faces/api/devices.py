"""`GET /api/v1/devices?user_id=` and `POST /api/v1/devices/<id>/revoke` (contract,
"Administration"; issue 20): the phones signed in, and cutting one off (a lost phone). An
admin sees and revokes every device; anyone else only their own."""
from flask import jsonify
from marshmallow import Schema, fields

from fieldapp.accounts import service as accounts
from fieldapp.accounts.models import Device
from fieldapp.core.clock import iso
from fieldapp.db import begin_write
from fieldapp.extensions import db
from fieldapp.web import domain_ctx

from .auth_tokens import api_actor
from .parsing import ApiBlueprint as Blueprint
from .schemas import RowId, Strict

blp = Blueprint("api_devices", __name__, url_prefix="/api/v1/devices",
                description="Devices signed in (phones, integrations) and revoking one.")


class DeviceSchema(Schema):
    id = fields.String()
    user_id = fields.Integer()
    name = fields.String()
    created_at = fields.String()
    last_sync_at = fields.String(allow_none=True, metadata={
        "description": "its last push or pull, whichever was later"})
    revoked_at = fields.String(allow_none=True)
    revoked_by = fields.Integer(allow_none=True, metadata={
        "description": "who revoked it; null: not revoked, or it signed itself out"})
    pending = fields.Integer(allow_none=True, metadata={
        "description": "changes waiting on the phone when it last reported (for a revoked "
                       "phone: not received by the office); null: never reported"})


class DeviceListSchema(Schema):
    items = fields.List(fields.Nested(DeviceSchema))


class DeviceQuerySchema(Strict):
    user_id = RowId(load_default=None, allow_none=True, metadata={
        "description": "only this user's devices (anyone but an admin: only their own)"})


def device_json(device: Device) -> dict:
    synced = [at for at in (device.last_push_at, device.last_pull_at) if at is not None]
    return {"id": device.id, "user_id": device.user_id, "name": device.name,
            "created_at": iso(device.created_at),
            "last_sync_at": iso(max(synced) if synced else None),
            "revoked_at": iso(device.revoked_at), "revoked_by": device.revoked_by_id,
            "pending": accounts.pending_reported(device)}


@blp.endpoint("GET", "", query=DeviceQuerySchema, answers=(200, DeviceListSchema),
              errors={403: "forbidden: another user's devices (only an admin may list them)"})
def list_devices(query):
    """Devices, newest first: every one for an admin; anyone else's own (another user's is
    a 403)."""
    rows = accounts.list_devices(domain_ctx(), api_actor(), query["user_id"])
    return jsonify({"items": [device_json(d) for d in rows]})


@blp.endpoint("POST", "/<device_id>/revoke", answers=(200, DeviceSchema),
              errors={403: "forbidden: another user's device (only an admin may)",
                      404: "device_not_found"})
def revoke_device(device_id):
    """Revoke a device: its token answers 401 `device_revoked` from now on. Audited; again
    changes nothing."""
    begin_write(db.session)
    device = accounts.revoke_device(domain_ctx(), api_actor(), device_id[:36])
    db.session.commit()
    return jsonify(device_json(device))

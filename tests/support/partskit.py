"""Shared pieces of the parts and take-back tests: the sync tests' simulated phone, and the
mutations of issue 8."""
from __future__ import annotations

from tests.support.synckit import (  # noqa: F401
    Phone,
    job_detail,
    job_of_type,
    jpeg_bytes,
    new_uuid,
    png_bytes,
    statuses,
    tech_jobs,
)


def parts_request(phone: Phone, job_id: str, *, kind="replacement", reason="柜门铰链断裂",
                  part_name="铰链 hinge", quantity=2, **extra) -> dict:
    args = {"request_id": new_uuid(), "part_name": part_name, "quantity": quantity,
            "kind": kind, "reason": reason, **extra}
    return phone.mutation("parts.request", job_id, args)


def receipt(phone: Phone, job_id: str, *, seed=1, receipt_no=None, photos=1,
            receipt_id=None, **extra) -> dict:
    signature = phone.upload(png_bytes(seed))
    shas = [phone.upload(jpeg_bytes(seed * 10 + n), "image/jpeg") for n in range(photos)]
    args = {"receipt_id": receipt_id or new_uuid(),
            "items": [{"name": "沙发扶手 armrest", "quantity": 1}, "坐垫 cushion"],
            "condition": "左扶手木架开裂，面料完好 / left armrest frame cracked",
            "signature_sha256": signature, **extra}
    if receipt_no:
        args["receipt_no"] = receipt_no
    if shas:
        args["photo_sha256s"] = shas
    return phone.mutation("takeback.receipt", job_id, args)


def giveback(phone: Phone, job_id: str, receipt_id: str, *, seed=50, **extra) -> dict:
    signature = phone.upload(png_bytes(seed))
    return phone.mutation("takeback.return", job_id, {
        "receipt_id": receipt_id, "signature_sha256": signature, **extra})


def events(app, job_id: str) -> list[tuple[str, dict, int | None, str | None]]:
    from sqlalchemy import select

    from fieldapp.extensions import db
    from fieldapp.models import JobEvent

    with app.app_context():
        rows = db.session.execute(select(JobEvent).where(JobEvent.job_id == job_id)
                                  .order_by(JobEvent.id)).scalars().all()
        out = [(e.type, e.data, e.actor_id, e.actor_role) for e in rows]
        db.session.remove()
    return out

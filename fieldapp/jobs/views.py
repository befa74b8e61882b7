"""Jobs and templates as the JSON the contract names, shaped for who is looking."""
from __future__ import annotations

import math

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.accounts.models import User
from fieldapp.core import sla as sla_rules
from fieldapp.core import states
from fieldapp.core.clock import iso
from fieldapp.core.roles import TECHNICIAN
from fieldapp.jobs.models import (
    ChecklistAnswer,
    ChecklistTemplate,
    Conflict,
    Job,
    JobEvent,
    Note,
    Photo,
    Review,
    Signature,
    SlaClock,
)
from fieldapp.parts import service as parts_service
from fieldapp.parts.models import PartsRequest
from fieldapp.sealing.models import Seal
from fieldapp.sealing.service import seal_dict


def template_dict(template: ChecklistTemplate) -> dict:
    return {"id": template.id, "job_type": template.job_type, "version": template.version,
            "items": [item.as_rule() for item in template.items]}


def sla_list(clocks: list[SlaClock], now) -> list[dict]:
    order = {name: i for i, name in enumerate(sla_rules.JOB_CLOCKS)}
    return [{"name": c.name, "due_at": iso(c.due_at), "met_at": iso(c.met_at),
             "state": sla_rules.clock_state(c.due_at, c.met_at, now)}
            for c in sorted(clocks, key=lambda c: order.get(c.name, 99))]


def contact_visible(job: Job, viewer: User) -> bool:
    """Customer phone and address reach a technician only for their own jobs that are not
    yet approved."""
    if viewer.role != TECHNICIAN:
        return True
    return job.technician_id == viewer.id and job.status != states.APPROVED


def job_summary(job: Job, viewer: User, clocks: list[SlaClock], now) -> dict:
    show_contact = contact_visible(job, viewer)
    technician = job.technician
    return {
        "id": job.id, "ref": job.ref, "type": job.type, "status": job.status,
        "status_reason": job.status_reason, "priority": job.priority,
        "channel": job.channel,
        "customer": {"id": job.customer_id, "name": job.contact_name,
                     "phone": job.contact_phone if show_contact else None,
                     "address": job.address if show_contact else None},
        "product_model": job.product_model, "problem": job.problem,
        "scheduled_start": iso(job.scheduled_start), "scheduled_end": iso(job.scheduled_end),
        "technician_id": job.technician_id,
        "technician": technician.public() if technician else None,
        "checklist_template_id": job.checklist_template_id,
        "created_at": iso(job.created_at), "updated_at": iso(job.updated_at),
        "arrived_at": iso(job.arrived_at), "work_started_at": iso(job.work_started_at),
        "completed_at": iso(job.completed_at), "approved_at": iso(job.approved_at),
        "needs_review": job.needs_review,
        "sla": sla_list(clocks, now),
    }


def clocks_for(session: Session, job_ids: list[str]) -> dict[str, list[SlaClock]]:
    out: dict[str, list[SlaClock]] = {job_id: [] for job_id in job_ids}
    if job_ids:
        for clock in session.execute(select(SlaClock).where(SlaClock.job_id.in_(job_ids))
                                     ).scalars():
            out[clock.job_id].append(clock)
    return out


def json_safe(value):
    """`value` with every non-finite number as null: for stored values the server sends but
    may not change (the append-only audit trail, a sealed job's answers) that were stored
    before pushes refused them (issue 14; see migration 3f9c2a7d51e0). The app's JSON is
    strict (fieldapp/strict_json.py): without this, one such value would fail every pull."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    return value


def job_detail(session: Session, job: Job, viewer: User, now, *, with_events: bool = True
               ) -> dict:
    """Everything about one job. Technicians get the same shape (it is what sync pulls), with
    customer contact data hidden once the job is approved."""
    clocks = clocks_for(session, [job.id])[job.id]
    out = job_summary(job, viewer, clocks, now)

    def rows(model, *order):
        return session.execute(select(model).where(model.job_id == job.id).order_by(*order)
                               ).scalars().all()

    # Time of record (issue 16): `at` is when it happened (corrected device time),
    # `received_at` when the server got it; the older names stay for older readers.
    out["answers"] = {a.item_key: {"value": json_safe(a.value), "note": a.note,
                                   "at": iso(a.at or a.answered_at),
                                   "received_at": iso(a.answered_at),
                                   "answered_at": iso(a.answered_at),
                                   "device_at": iso(a.device_at)}
                      for a in rows(ChecklistAnswer, ChecklistAnswer.id)}
    photos = [{"id": p.id, "sha256": p.sha256, "item_key": p.item_key,
               "caption": p.caption, "taken_at": iso(p.taken_at), "lat": p.lat,
               "lng": p.lng, "at": iso(p.at or p.created_at),
               "received_at": iso(p.created_at), "created_at": iso(p.created_at),
               "removed_at": iso(p.removed_at)}
              for p in rows(Photo, Photo.created_at, Photo.id)]
    # A photo taken back (`photo.remove`) is no longer evidence; it stays on record.
    out["photos"] = [p for p in photos if p["removed_at"] is None]
    out["removed_photos"] = [p for p in photos if p["removed_at"] is not None]
    out["signatures"] = [{"id": s.id, "sha256": s.sha256, "signer_name": s.signer_name,
                          "signer_relation": s.signer_relation,
                          "at": iso(s.at or s.created_at), "received_at": iso(s.created_at),
                          "created_at": iso(s.created_at)}
                         for s in rows(Signature, Signature.created_at, Signature.id)]
    out["notes"] = [{"id": n.id, "text": n.text, "author_role": n.author_role,
                     "author": n.author.display_name if n.author else None,
                     "at": iso(n.at or n.created_at), "received_at": iso(n.created_at),
                     "created_at": iso(n.created_at), "device_at": iso(n.device_at)}
                    for n in rows(Note, Note.created_at, Note.id)]

    out["parts_requests"] = [parts_service.parts_dict(p, with_job=False)
                             for p in rows(PartsRequest, PartsRequest.created_at,
                                           PartsRequest.id)]
    # Receipts taken on this job, and on a follow-up job the receipt it brings back.
    out["takebacks"] = [parts_service.takeback_dict(t)
                        for t in parts_service.takebacks_for_job(session, job.id)]
    reviews = rows(Review, Review.at, Review.id)
    last = reviews[-1] if reviews else None
    out["review"] = None if last is None else {
        "decision": last.decision, "comment": last.comment, "at": iso(last.at),
        "by": last.by.display_name if last.by else None}
    if viewer.role != TECHNICIAN:
        out["conflicts"] = [{"id": c.id, "mutation_id": c.mutation_id,
                             "type": c.mutation_type, "args": json_safe(c.args),
                             "reason": c.reason,
                             "device_id": c.device_id, "user_id": c.user_id,
                             "device_at": iso(c.device_at), "created_at": iso(c.created_at),
                             "resolved_at": iso(c.resolved_at), "resolution": c.resolution}
                            for c in rows(Conflict, Conflict.id)]
    else:
        out["conflicts"] = [{"id": c.id, "mutation_id": c.mutation_id,
                             "type": c.mutation_type, "reason": c.reason,
                             "created_at": iso(c.created_at)}
                            for c in rows(Conflict, Conflict.id) if c.user_id == viewer.id]
    if with_events:
        out["events"] = [{"id": e.id, "type": e.type, "data": json_safe(e.data),
                          "actor_id": e.actor_id, "actor_role": e.actor_role,
                          "actor": e.actor.display_name if e.actor else None,
                          "device_id": e.device_id, "at": iso(e.at or e.server_at),
                          "server_at": iso(e.server_at), "device_at": iso(e.device_at)}
                         for e in rows(JobEvent, JobEvent.id)]
    out["seal"] = None
    if job.status == states.APPROVED:
        seal = session.execute(select(Seal).where(Seal.job_id == job.id)).scalar_one_or_none()
        out["seal"] = seal_dict(seal, verify_url=f"/review/verify/{job.id}")
    return out

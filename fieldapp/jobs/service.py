"""Everything that changes a job, from any side. Each change checks the rules in
`fieldapp.core`, writes an audit event and bumps the job's change counter so phones pull it.
Nothing here commits: the caller owns the transaction, so a refused change stores nothing."""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import String, cast, exists, func, or_, select, update
from sqlalchemy.orm import Session

from fieldapp.accounts.context import Actor, Ctx
from fieldapp.accounts.models import User
from fieldapp.blobs.models import Blob, BlobUpload
from fieldapp.complaints.models import Complaint
from fieldapp.core import checklist as checklist_rules
from fieldapp.core import complaints as complaint_rules
from fieldapp.core import sla as sla_rules
from fieldapp.core import states
from fieldapp.core.clock import ensure_aware, iso  # noqa: F401  (jobs.iso, as before)
from fieldapp.core.errors import DomainError, Forbidden, NotFound
from fieldapp.core.job_types import JOB_TYPES
from fieldapp.core.roles import DISPATCH_ROLES, REVIEW_ROLES, TECHNICIAN
from fieldapp.db import insert_once
from fieldapp.jobs.counters import bump
from fieldapp.jobs.models import (
    ChecklistAnswer,
    ChecklistTemplate,
    ContactAttempt,
    Customer,
    Job,
    JobAssignment,
    JobEvent,
    Note,
    Photo,
    Review,
    Signature,
    SlaClock,
    SyncRemoval,
)
from fieldapp.parts.models import PartsRequest, Takeback
from fieldapp.sealing.service import seal_job

CHANNELS = ("phone", "store", "online", "email")
PRIORITIES = ("normal", "urgent")
CONTACT_OUTCOMES = ("reached", "no_answer", "busy", "wrong_number", "left_message")


# --- small shared pieces -----------------------------------------------------------------

def phone_key(phone: str) -> str:
    """Digits only (a leading +86 country code dropped) so 138-0013-8000 finds 13800138000."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def happened_at(ctx: Ctx, actor: Actor | None) -> datetime:
    """When the actor's change happened (time of record): the corrected device time of a
    synced change, else now."""
    return actor.at if actor is not None and actor.at is not None else ctx.now()


def record_event(ctx: Ctx, actor: Actor | None, job: Job, type_: str, data: dict | None = None,
                 ) -> JobEvent:
    event = JobEvent(job_id=job.id, type=type_, data=data or {}, server_at=ctx.now(),
                     actor_id=actor.id if actor else None,
                     actor_role=actor.role if actor else None,
                     device_id=actor.device_id if actor else None,
                     device_at=actor.device_at if actor else None,
                     at=happened_at(ctx, actor))
    ctx.session.add(event)
    return event


def touch(ctx: Ctx, job: Job) -> None:
    """Mark the job changed: phones holding it will pull it again."""
    job.change_seq = bump(ctx.session)
    job.updated_at = ctx.now()


def require_role(actor: Actor, roles, code: str = "forbidden") -> None:
    if actor.role not in roles:
        raise Forbidden(code, {"role": actor.role})


def get_job(ctx: Ctx, actor: Actor, job_id: str, for_update: bool = False) -> Job:
    """The job, if `actor` may see it. A technician sees only jobs assigned to them; for
    anyone else's job they get the same answer as for a job that does not exist."""
    stmt = select(Job).where(Job.id == job_id)
    if for_update:
        stmt = stmt.with_for_update()
    job = ctx.session.execute(stmt).scalar_one_or_none() if is_uuid(job_id) else None
    if job is None:
        raise NotFound("job")
    if actor.role == TECHNICIAN and job.technician_id != actor.id:
        raise NotFound("job")
    return job


_UUID = re.compile(r"^[0-9a-fA-F-]{36}$")


def is_uuid(value) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def active_template(session: Session, job_type: str) -> ChecklistTemplate:
    template = session.execute(
        select(ChecklistTemplate)
        .where(ChecklistTemplate.job_type == job_type, ChecklistTemplate.active.is_(True))
        .order_by(ChecklistTemplate.version.desc()).limit(1)).scalar_one_or_none()
    if template is None:
        raise DomainError("no_checklist_template", {"type": job_type}, status=500)
    return template


def _technician(ctx: Ctx, technician_id: int) -> User:
    user = ctx.session.get(User, technician_id)
    if user is None or user.role != TECHNICIAN or not user.active:
        raise DomainError("unknown_technician", {"technician_id": technician_id})
    return user


def _check_window(start: datetime | None, end: datetime | None) -> None:
    if start and end and end <= start:
        raise DomainError("bad_schedule", {"scheduled_start": iso(start),
                                           "scheduled_end": iso(end)})


# --- intake and dispatch -----------------------------------------------------------------

def find_or_create_customer(ctx: Ctx, name: str, phone: str, address: str | None,
                            email: str | None = None) -> Customer:
    """A returning customer is recognised by phone; their name and address are refreshed."""
    key = phone_key(phone)
    if len(key) < 5:
        raise DomainError("bad_phone", {"phone": phone})
    customer = ctx.session.execute(
        select(Customer).where(Customer.phone_key == key).order_by(Customer.created_at)
        .limit(1)).scalar_one_or_none()
    if customer is None:
        customer = Customer(name=name, phone=phone, phone_key=key, address=address,
                            email=email, created_at=ctx.now())
        ctx.session.add(customer)
    else:
        customer.name = name or customer.name
        customer.address = address or customer.address
        customer.email = email or customer.email
    return customer


def next_ref(ctx: Ctx) -> str:
    local_day = ctx.now().astimezone(ctx.policy.tz).strftime("%y%m%d")
    number = bump(ctx.session, f"ref:{local_day}")
    return f"FA{local_day}-{number:04d}"


def intake(ctx: Ctx, actor: Actor, data: dict) -> Job:
    """The after-sales problem registration form (售后问题登记表) becomes a job."""
    require_role(actor, DISPATCH_ROLES)
    if data["type"] not in JOB_TYPES:
        raise DomainError("bad_type", {"type": data["type"], "allowed": JOB_TYPES})
    now = ctx.now()
    start, end = data.get("scheduled_start"), data.get("scheduled_end")
    _check_window(start, end)
    technician = None
    if data.get("technician_id") is not None:
        technician = _technician(ctx, data["technician_id"])
        if start is None:
            raise DomainError("schedule_required", {})
    c = data["customer"]
    customer = find_or_create_customer(ctx, c["name"], c["phone"], c.get("address"),
                                       c.get("email"))
    template = active_template(ctx.session, data["type"])
    job = Job(ref=next_ref(ctx), type=data["type"], status=states.INITIAL, customer=customer,
              contact_name=c["name"], contact_phone=c["phone"],
              address=c.get("address") or customer.address or "",
              product_model=data["product_model"], problem=data["problem"],
              channel=data["channel"], priority=data.get("priority") or "normal",
              scheduled_start=start, scheduled_end=end, template=template,
              created_by_id=actor.id, created_at=now, updated_at=now, needs_review=False,
              change_seq=bump(ctx.session))
    ctx.session.add(job)
    ctx.session.flush()
    record_event(ctx, actor, job, "created", {
        "ref": job.ref, "type": job.type, "channel": job.channel, "priority": job.priority,
        "customer_id": customer.id, "checklist_template_id": template.id})
    for name, limit in sla_rules.job_clock_limits(job.type, ctx.policy).items():
        ctx.session.add(SlaClock(job_id=job.id, name=name, started_at=now, unit=limit.unit,
                                 due_at=sla_rules.due_at(now, limit, ctx.policy)))
    if technician is not None:
        _assign(ctx, actor, job, technician)
    elif start is not None:  # a visit agreed at intake: no first call to chase
        settle_clocks(ctx, job, now)
    return job


def _assign(ctx: Ctx, actor: Actor, job: Job, technician: User | None) -> None:
    """Give the job to `technician` (None: back to the unassigned queue)."""
    now = ctx.now()
    previous = job.technician_id
    if previous == (technician.id if technician else None):
        return
    if previous is not None:
        open_row = ctx.session.execute(
            select(JobAssignment).where(JobAssignment.job_id == job.id,
                                        JobAssignment.technician_id == previous,
                                        JobAssignment.unassigned_at.is_(None))).scalars().all()
        for row in open_row:
            row.unassigned_at = now
    job.technician_id = technician.id if technician else None
    touch(ctx, job)
    if previous is not None:
        # The previous technician's phone drops the job on its next pull.
        ctx.session.add(SyncRemoval(user_id=previous, job_id=job.id, change_seq=job.change_seq))
    before = job.status
    if technician is None:
        if job.status == states.SCHEDULED:
            transition(ctx, actor, job, states.NEW, assignment=True)
    else:
        ctx.session.add(JobAssignment(job_id=job.id, technician_id=technician.id,
                                      assigned_at=now))
        if job.status in (states.NEW, states.EN_ROUTE, states.ON_SITE, states.IN_PROGRESS,
                          states.PAUSED, states.UNSUCCESSFUL):
            # A new technician starts the visit from the beginning; rework stays rework.
            transition(ctx, actor, job, states.SCHEDULED, assignment=True)
        _meet_clock(ctx, job, sla_rules.RESPONSE, now)
    settle_clocks(ctx, job, now)
    record_event(ctx, actor, job, "assigned" if technician else "unassigned", {
        "from_technician_id": previous,
        "to_technician_id": technician.id if technician else None,
        "status_from": before, "status_to": job.status})


def _meet_clock(ctx: Ctx, job: Job, name: str, at: datetime) -> None:
    clock = ctx.session.execute(
        select(SlaClock).where(SlaClock.job_id == job.id, SlaClock.name == name)
    ).scalar_one_or_none()
    if clock is not None and clock.met_at is None:
        clock.met_at = at


def settle_clocks(ctx: Ctx, job: Job, at: datetime) -> None:
    """Stop the job's unmet clocks nobody can act on any more (core/sla.py says which: all of
    a done job's, first contact once a visit is agreed). They keep their due time; from now
    on they are history, not alarms. Called after every change of status or appointment."""
    names = sla_rules.job_clocks_to_stop(job.status, job.scheduled_start is not None)
    if names:
        ctx.session.execute(update(SlaClock).where(SlaClock.job_id == job.id,
                                                   SlaClock.name.in_(names),
                                                   SlaClock.met_at.is_(None),
                                                   SlaClock.stopped_at.is_(None))
                            .values(stopped_at=at))


def update_job(ctx: Ctx, actor: Actor, job: Job, changes: dict) -> Job:
    """The dispatcher's PATCH: assign or reassign, reschedule, cancel with a reason."""
    require_role(actor, DISPATCH_ROLES)
    if job.status in states.CLOSED or job.status == states.COMPLETED:
        raise DomainError("job_closed", {"status": job.status}, status=409)
    if "status" in changes:
        if changes["status"] != states.CANCELLED:
            raise DomainError("status_not_patchable", {"status": changes["status"],
                                                       "allowed": [states.CANCELLED]})
        if set(changes) - {"status", "reason", "override"}:
            raise DomainError("cancel_alone", {"fields": sorted(set(changes))})
        override = changes.get("override") is True
        if job.status in states.UNDER_WAY and not override:
            # Deliberate: the technician is on the way or at work and must be told.
            raise DomainError("job_under_way", {
                "status": job.status, "technician_id": job.technician_id}, status=409)
        transition(ctx, actor, job, states.CANCELLED, reason=changes.get("reason"),
                   facts={"override": True} if job.status in states.UNDER_WAY else None)
        return job
    start = changes.get("scheduled_start", job.scheduled_start)
    end = changes.get("scheduled_end", job.scheduled_end)
    if "scheduled_start" in changes or "scheduled_end" in changes:
        _check_window(start, end)
        if start is None and job.technician_id is not None and \
                changes.get("technician_id", job.technician_id) is not None:
            raise DomainError("schedule_required", {})
    technician = None
    if "technician_id" in changes and changes["technician_id"] is not None:
        technician = _technician(ctx, changes["technician_id"])
        if start is None:
            raise DomainError("schedule_required", {})
    if ("scheduled_start" in changes or "scheduled_end" in changes) and \
            (start, end) != (job.scheduled_start, job.scheduled_end):
        record_event(ctx, actor, job, "rescheduled", {
            "from": [iso(job.scheduled_start), iso(job.scheduled_end)],
            "to": [iso(start), iso(end)]})
        job.scheduled_start, job.scheduled_end = start, end
        if job.status == states.UNSUCCESSFUL and job.technician_id is not None \
                and "technician_id" not in changes:
            record_event(ctx, actor, job, "status", {"from": job.status,
                                                     "to": states.SCHEDULED})
            transition(ctx, actor, job, states.SCHEDULED, assignment=True)
        settle_clocks(ctx, job, ctx.now())
        touch(ctx, job)
    if "technician_id" in changes:
        _assign(ctx, actor, job, technician)
    return job


def record_contact(ctx: Ctx, actor: Actor, job: Job, outcome: str, note: str | None) -> None:
    require_role(actor, DISPATCH_ROLES)
    if job.status in states.LOCKED:  # signed off and sealed: nothing more is recorded on it
        raise DomainError("job_closed", {"status": job.status}, status=409)
    if outcome not in CONTACT_OUTCOMES:
        raise DomainError("bad_outcome", {"outcome": outcome, "allowed": CONTACT_OUTCOMES})
    now = ctx.now()
    ctx.session.add(ContactAttempt(job_id=job.id, outcome=outcome, note=note, by_id=actor.id,
                                   at=now))
    if outcome == "reached":
        _meet_clock(ctx, job, sla_rules.FIRST_CONTACT, now)
    record_event(ctx, actor, job, "contact", {"outcome": outcome, "note": note})
    touch(ctx, job)


# --- status moves ------------------------------------------------------------------------

def unmet_items(ctx: Ctx, job: Job) -> list[checklist_rules.Unmet]:
    items = [item.as_rule() for item in job.template.items]
    answers = dict(ctx.session.execute(
        select(ChecklistAnswer.item_key, ChecklistAnswer.value)
        .where(ChecklistAnswer.job_id == job.id)).all())
    photo_counts = dict(ctx.session.execute(
        select(Photo.item_key, func.count(Photo.id))
        .join(Blob, Blob.sha256 == Photo.sha256)
        .where(Photo.job_id == job.id, Photo.item_key.is_not(None),
               Photo.removed_at.is_(None))
        .group_by(Photo.item_key)).all())
    has_signature = ctx.session.execute(
        select(func.count(Signature.id)).where(Signature.job_id == job.id)).scalar() > 0
    return checklist_rules.unmet_items(items, answers, photo_counts, has_signature)


def transition(ctx: Ctx, actor: Actor, job: Job, to: str, reason: str | None = None,
               comment: str | None = None, position: dict | None = None, *,
               assignment: bool = False, facts: dict | None = None) -> Job:
    """The only code that changes a job's status (tests/core/test_status_writes.py): the move
    must be a row of the core's table for the actor's role, its requirements met, and it is
    audited. `assignment`: the move follows from (un)assigning or rescheduling a technician
    (a row requiring `assignment`); that caller records it in its own event and touches the
    job, and the status reason stays (as it always did). `facts`: what the move's event
    records besides (an override and what it overrode)."""
    if actor.role == TECHNICIAN and job.technician_id != actor.id:
        raise NotFound("job")
    frm = job.status
    try:
        requirements = states.check_move(frm, to, actor.role)
    except states.MoveRefused as refused:
        raise DomainError(refused.code, {"from": frm, "to": to,
                                         "allowed": list(refused.allowed)},
                          status=409 if refused.code != "unknown_status" else 422)
    if ("assignment" in requirements) != assignment:
        # Scheduling and unscheduling happen by assigning, never by naming the status.
        raise DomainError("status_not_patchable", {"status": to, "allowed": [states.CANCELLED]})
    if assignment:
        job.status = to
        return job
    if "reason" in requirements and not (reason or "").strip():
        raise DomainError("reason_required", {"from": frm, "to": to})
    if "comment" in requirements and not (comment or "").strip():
        raise DomainError("comment_required", {"from": frm, "to": to})
    if "completion" in requirements:
        unmet = unmet_items(ctx, job)
        if unmet:
            raise DomainError("checklist_incomplete",
                              {"unmet": [u.as_dict() for u in unmet]}, status=409)
    now = ctx.now()
    at = happened_at(ctx, actor)  # time of record; `now` is when the server learnt it
    job.status = to
    job.status_reason = reason or comment
    if to == states.ON_SITE and job.arrived_at is None:
        job.arrived_at = at
    if to == states.IN_PROGRESS and job.work_started_at is None:
        job.work_started_at = at
    if to == states.COMPLETED:
        job.completed_at = at
        _meet_clock(ctx, job, sla_rules.RESOLUTION, at)
    if to == states.APPROVED:
        job.approved_at = now
    settle_clocks(ctx, job, now)
    data = {"from": frm, "to": to}
    if reason:
        data["reason"] = reason
    if comment:
        data["comment"] = comment
    if position:
        data["position"] = position
    data.update(facts or {})
    record_event(ctx, actor, job, "status", data)
    touch(ctx, job)
    return job


def open_complaints(session, job_id: str) -> list[Complaint]:
    """Complaints about the job still being handled (open, escalated, in progress)."""
    return session.execute(select(Complaint).where(
        Complaint.job_id == job_id, Complaint.status.in_(tuple(complaint_rules.ACTIVE)))
        .order_by(Complaint.created_at, Complaint.id)).scalars().all()


def review(ctx: Ctx, actor: Actor, job: Job, decision: str, comment: str | None,
           override: bool = False) -> Review:
    """Approve (seal) or send back. Approving while a complaint about the job is open is a
    deliberate decision: refused (409 `open_complaints`, listing them) unless `override` and
    a `comment` say why; the sealed status event keeps the override and what it overrode."""
    require_role(actor, REVIEW_ROLES)
    if decision not in ("approve", "rework"):
        raise DomainError("bad_decision", {"decision": decision,
                                           "allowed": ["approve", "rework"]})
    facts = None
    if decision == "approve" and job.status == states.COMPLETED:
        still_open = open_complaints(ctx.session, job.id)
        if still_open:
            listed = [{"id": c.id, "ref": c.ref, "status": c.status, "severity": c.severity,
                       "about": c.about} for c in still_open]
            if override is not True or not (comment or "").strip():
                raise DomainError("open_complaints", {
                    "complaints": listed, "override": override is True,
                    "comment_required": True}, status=409)
            facts = {"override": True, "open_complaints": [c["ref"] for c in listed]}
    to = states.APPROVED if decision == "approve" else states.REWORK
    transition(ctx, actor, job, to, comment=comment, facts=facts)
    row = Review(job_id=job.id, decision=decision, comment=comment, by_id=actor.id,
                 at=ctx.now())
    ctx.session.add(row)
    if decision == "approve":
        # Sealed in the approving transaction: no approval without its seal.

        seal_job(ctx, actor, job, row)
    return row


# --- evidence from the technician --------------------------------------------------------

def ensure_open_for_evidence(job: Job) -> None:
    """Evidence may be added until sign-off; a closed job takes none (sync keeps it as a
    conflict instead)."""
    if job.status in states.CLOSED:
        raise DomainError("job_closed", {"status": job.status}, status=409)


def _template_item(job: Job, item_key: str) -> dict:
    for item in job.template.items:
        if item.key == item_key:
            return item.as_rule()
    raise DomainError("unknown_item", {"item_key": item_key})


def answer(ctx: Ctx, actor: Actor, job: Job, item_key: str, value, note: str | None = None,
           ) -> ChecklistAnswer:
    """Last write in server order wins per item; the old value stays in the audit trail."""
    ensure_open_for_evidence(job)
    item = _template_item(job, item_key)
    problem = checklist_rules.validate_answer(item, value)
    if problem:
        raise DomainError(problem, {"item_key": item_key, "kind": item["kind"]})
    row = ctx.session.execute(
        select(ChecklistAnswer).where(ChecklistAnswer.job_id == job.id,
                                      ChecklistAnswer.item_key == item_key)
    ).scalar_one_or_none()
    previous = row.value if row else None
    now = ctx.now()
    if row is None:
        row = ChecklistAnswer(job_id=job.id, item_key=item_key)
        ctx.session.add(row)
    row.value, row.note = value, note
    row.answered_by_id, row.device_id = actor.id, actor.device_id
    row.answered_at, row.device_at = now, actor.device_at
    row.at = happened_at(ctx, actor)
    record_event(ctx, actor, job, "answer", {"item_key": item_key, "value": value,
                                             "previous": previous, "note": note})
    touch(ctx, job)
    return row


def add_note(ctx: Ctx, actor: Actor, job: Job, text: str, note_id: str | None = None) -> Note:
    if not (text or "").strip():
        raise DomainError("empty_note", {})
    if len(text) > 4000:
        raise DomainError("note_too_long", {"max": 4000})
    if note_id and ctx.session.get(Note, note_id) is not None:
        return ctx.session.get(Note, note_id)
    ensure_open_for_evidence(job)
    note = Note(job_id=job.id, author_id=actor.id, author_role=actor.role,
                device_id=actor.device_id, text=text, created_at=ctx.now(),
                device_at=actor.device_at, at=happened_at(ctx, actor))
    if note_id:
        note.id = note_id
    ctx.session.add(note)
    ctx.session.flush()
    record_event(ctx, actor, job, "note", {"note_id": note.id, "text": text})
    touch(ctx, job)
    return note


class BlobMissing(DomainError):
    """The bytes a change names have not reached the server yet: try again later."""

    def __init__(self, sha256: str):
        super().__init__("blob_missing", {"sha256": sha256}, status=409)


def require_blob(ctx: Ctx, sha256: str, actor: Actor | None = None) -> Blob:
    """The blob a change names. Missing bytes answer BlobMissing (the phone uploads them and
    tries again). With `actor`, it must also be theirs to use (`blob_usable_by`): a hash
    learned from another job's photo attaches nothing."""
    if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise DomainError("bad_sha256", {"sha256": sha256})
    blob = ctx.session.get(Blob, sha256)
    if blob is None:
        raise BlobMissing(sha256)
    if actor is not None and not blob_usable_by(ctx.session, actor.user, sha256):
        raise Forbidden("blob_not_yours", {"sha256": sha256})
    return blob


def blob_usable_by(session: Session, user: User, sha256: str) -> bool:
    """May `user` read this blob, and so attach it to a job: office roles see every job; a
    technician only bytes they uploaded themselves or that a job of theirs already uses."""
    if user.role != TECHNICIAN:
        return True
    own_job = select(Job.id).where(Job.technician_id == user.id)
    return session.execute(select(or_(
        exists().where(BlobUpload.sha256 == sha256, BlobUpload.user_id == user.id),
        exists().where(Blob.sha256 == sha256, Blob.uploaded_by_id == user.id),
        exists().where(Photo.sha256 == sha256, Photo.job_id.in_(own_job)),
        exists().where(Signature.sha256 == sha256, Signature.job_id.in_(own_job)),
        exists().where(Takeback.job_id.in_(own_job), or_(
            Takeback.receipt_signature_sha256 == sha256,
            Takeback.return_signature_sha256 == sha256,
            # JSON lists of photo hashes are searched as text, as parts.blob_referenced does
            cast(Takeback.photo_sha256s, String).contains(sha256))),
        exists().where(PartsRequest.job_id.in_(own_job),
                       cast(PartsRequest.photo_sha256s, String).contains(sha256)),
    ))).scalar()


def record_upload(ctx: Ctx, user: User, sha256: str) -> None:
    """`user` sent these bytes (first time or again): they may use the blob from now on."""
    insert_once(ctx.session, BlobUpload, {"sha256": sha256, "user_id": user.id,
                                          "uploaded_at": ctx.now()},
                ("sha256", "user_id"), BlobUpload.sha256)


def existing_row(ctx: Ctx, model, row_id: str, job: Job, code: str):
    """Ids are made on the phone: the same id again is the same thing (a replay under a new
    registration), unless it belongs to another job."""
    row = ctx.session.get(model, row_id)
    if row is not None and row.job_id != job.id:
        raise DomainError(code, {"id": row_id})
    return row


def attach_photo(ctx: Ctx, actor: Actor, job: Job, args: dict) -> Photo:
    require_blob(ctx, args["sha256"], actor)
    existing = existing_row(ctx, Photo, args["photo_id"], job, "photo_id_taken")
    if existing is not None:
        return existing
    ensure_open_for_evidence(job)
    if args.get("item_key"):
        item = _template_item(job, args["item_key"])
        if item["kind"] != "photo":
            raise DomainError("not_a_photo_item", {"item_key": args["item_key"]})
    photo = Photo(id=args["photo_id"], job_id=job.id, sha256=args["sha256"],
                  item_key=args.get("item_key"), caption=args.get("caption"),
                  taken_at=args.get("taken_at"), lat=args.get("lat"), lng=args.get("lng"),
                  created_by_id=actor.id, device_id=actor.device_id, created_at=ctx.now(),
                  at=happened_at(ctx, actor), device_at=actor.device_at)
    ctx.session.add(photo)
    record_event(ctx, actor, job, "photo", {
        "photo_id": photo.id, "sha256": photo.sha256, "item_key": photo.item_key,
        "taken_at": iso(photo.taken_at),
        **({"position": {"lat": photo.lat, "lng": photo.lng}} if photo.lat is not None else {})})
    touch(ctx, job)
    return photo


def remove_photo(ctx: Ctx, actor: Actor, job: Job, photo_id: str) -> Photo:
    """`photo.remove`: the technician takes a photo back before completion. The row stays
    (marked removed) and the audit trail keeps both the photo and its removal; the
    completion rule no longer counts it. Removing it again changes nothing."""
    photo = ctx.session.get(Photo, photo_id)
    if photo is None or photo.job_id != job.id:
        raise DomainError("photo_not_found", {"photo_id": photo_id})
    if job.status == states.COMPLETED or job.status in states.CLOSED:
        raise DomainError("job_closed", {"status": job.status}, status=409)
    if photo.removed_at is not None:
        return photo
    photo.removed_at = happened_at(ctx, actor)
    record_event(ctx, actor, job, "photo_removed", {
        "photo_id": photo.id, "sha256": photo.sha256, "item_key": photo.item_key})
    touch(ctx, job)
    return photo


def capture_signature(ctx: Ctx, actor: Actor, job: Job, args: dict) -> Signature:
    blob = require_blob(ctx, args["sha256"], actor)
    if blob.content_type != "image/png":
        raise DomainError("signature_not_png", {"content_type": blob.content_type})
    existing = existing_row(ctx, Signature, args["signature_id"], job, "signature_id_taken")
    if existing is not None:
        return existing
    ensure_open_for_evidence(job)
    signature = Signature(id=args["signature_id"], job_id=job.id, sha256=args["sha256"],
                          signer_name=args["signer_name"],
                          signer_relation=args["signer_relation"], created_by_id=actor.id,
                          device_id=actor.device_id, created_at=ctx.now(),
                          device_at=actor.device_at, at=happened_at(ctx, actor))
    ctx.session.add(signature)
    record_event(ctx, actor, job, "signature", {
        "signature_id": signature.id, "sha256": signature.sha256,
        "signer_name": signature.signer_name, "signer_relation": signature.signer_relation})
    touch(ctx, job)
    return signature

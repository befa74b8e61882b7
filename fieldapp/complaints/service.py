"""Complaints (投诉): intake, classification, escalation, contacts, closing with the customer
satisfied, and a job spawned to put things right. Rules in `fieldapp.core.complaints`; every
change writes a ComplaintEvent; nothing here commits (the caller does, once).

An escalation records who it went to (`escalated_to_id`), an `escalated` event, and notifies
that supervisor (every supervisor when none was named) through the notification outbox.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import desc, select
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session

from fieldapp.accounts.context import Actor, Ctx
from fieldapp.accounts.models import User
from fieldapp.complaints.models import Complaint, ComplaintContact, ComplaintEvent, ComplaintJob
from fieldapp.core import complaints as rules
from fieldapp.core import sla as sla_rules
from fieldapp.core.clock import iso
from fieldapp.core.errors import DomainError, NotFound
from fieldapp.core.job_types import FOLLOW_UP_TYPES
from fieldapp.core.roles import DISPATCH_ROLES, OFFICE_ROLES, SUPERVISOR, TECHNICIAN
from fieldapp.jobs import service as job_service
from fieldapp.jobs.counters import bump
from fieldapp.jobs.models import Job, SlaClock
from fieldapp.jobs.service import CONTACT_OUTCOMES, require_role
from fieldapp.notifications import service as notifications

RETURN_JOB_TYPES = FOLLOW_UP_TYPES  # inspection or repair (core/job_types.py)


def record_event(ctx: Ctx, actor: Actor | None, complaint: Complaint, type_: str,
                 data: dict | None = None) -> ComplaintEvent:
    event = ComplaintEvent(complaint_id=complaint.id, type=type_, data=data or {},
                           server_at=ctx.now(), actor_id=actor.id if actor else None,
                           actor_role=actor.role if actor else None,
                           device_id=actor.device_id if actor else None)
    ctx.session.add(event)
    return event


def next_ref(ctx: Ctx) -> str:
    local_day = ctx.now().astimezone(ctx.policy.tz).strftime("%y%m%d")
    number = bump(ctx.session, f"cref:{local_day}")
    return f"TS{local_day}-{number:04d}"


def _require_open_for_dispatch(actor: Actor, complaint: Complaint) -> None:
    """Only a dispatcher (or admin) changes a complaint, and a closed one no longer changes."""
    require_role(actor, DISPATCH_ROLES)
    if complaint.status == rules.CLOSED:
        raise DomainError("complaint_closed", {"status": complaint.status}, status=409)


def get_complaint(ctx: Ctx, actor: Actor, complaint_id: str, for_update: bool = False,
                  read_only: bool = False) -> Complaint:
    """The complaint, for the desk (dispatchers, admins); `read_only` lets supervisors read
    it too (they are the ones notified of escalations)."""
    require_role(actor, OFFICE_ROLES if read_only and not for_update else DISPATCH_ROLES)
    stmt = select(Complaint).where(Complaint.id == complaint_id)
    if for_update:
        stmt = stmt.with_for_update()
    complaint = ctx.session.execute(stmt).scalar_one_or_none() \
        if job_service.is_uuid(complaint_id) else None
    if complaint is None:
        raise NotFound("complaint")
    return complaint


def _user_with_role(ctx: Ctx, user_id: int, role: str, code: str) -> User:
    user = ctx.session.get(User, user_id)
    if user is None or user.role != role or not user.active:
        raise DomainError(code, {"id": user_id})
    return user


def _start_clock(ctx: Ctx, complaint: Complaint, name: str, limit: sla_rules.Limit) -> None:
    now = ctx.now()
    ctx.session.add(SlaClock(complaint_id=complaint.id, name=name, started_at=now,
                             unit=limit.unit, due_at=sla_rules.due_at(now, limit, ctx.policy)))


def _meet(ctx: Ctx, complaint: Complaint, names, at: datetime) -> list[str]:
    met = []
    for clock in ctx.session.execute(select(SlaClock).where(
            SlaClock.complaint_id == complaint.id, SlaClock.name.in_(names))).scalars():
        if clock.met_at is None:
            clock.met_at = at
            met.append(clock.name)
    return met


def intake(ctx: Ctx, actor: Actor, data: dict) -> Complaint:
    """Register a complaint: who complains, about what, how serious. Starts its clocks:
    `coordination` always, `escalation` for a major one."""
    require_role(actor, DISPATCH_ROLES)
    if data.get("about") not in rules.ABOUT:
        raise DomainError("bad_about", {"about": data.get("about"), "allowed": rules.ABOUT})
    if data.get("severity") not in rules.SEVERITIES:
        raise DomainError("bad_severity", {"severity": data.get("severity"),
                                           "allowed": rules.SEVERITIES})
    if not (data.get("content") or "").strip():
        raise DomainError("content_required", {})
    job = None
    if data.get("job_id"):
        job = job_service.get_job(ctx, actor, data["job_id"])
    about_technician_id = data.get("about_technician_id")
    if about_technician_id is not None:
        _user_with_role(ctx, about_technician_id, TECHNICIAN, "unknown_technician")
    elif data["about"] == "technician" and job is not None:
        about_technician_id = job.technician_id
    evidence = data.get("evidence_sha256")
    if evidence:
        job_service.require_blob(ctx, evidence)
    who = data.get("customer") or (
        {"name": job.contact_name, "phone": job.contact_phone} if job is not None else None)
    if not who or not who.get("name") or not who.get("phone"):
        raise DomainError("customer_required", {})
    customer = job_service.find_or_create_customer(ctx, who["name"], who["phone"],
                                                   who.get("address"))
    now = ctx.now()
    complaint = Complaint(ref=next_ref(ctx), status=rules.OPEN, severity=data["severity"],
                          about=data["about"], about_technician_id=about_technician_id,
                          content=data["content"].strip(), customer=customer,
                          complainant_name=who["name"], complainant_phone=who["phone"],
                          job_id=job.id if job else None, evidence_sha256=evidence or None,
                          created_by_id=actor.id, created_at=now, updated_at=now)
    ctx.session.add(complaint)
    ctx.session.flush()
    record_event(ctx, actor, complaint, "created", {
        "ref": complaint.ref, "severity": complaint.severity, "about": complaint.about,
        "job_id": complaint.job_id, "customer_id": customer.id,
        "about_technician_id": about_technician_id, "evidence_sha256": evidence or None})
    for name, limit in sla_rules.complaint_clock_limits(complaint.severity, ctx.policy).items():
        _start_clock(ctx, complaint, name, limit)
    if job is not None:
        # On the job's own trail too (no change to the job, so phones need not pull it).
        job_service.record_event(ctx, actor, job, "complaint", {
            "complaint_id": complaint.id, "ref": complaint.ref, "severity": complaint.severity})
    return complaint


def update(ctx: Ctx, actor: Actor, complaint: Complaint, changes: dict) -> Complaint:
    """The PATCH: a status move with a note, a note alone, or reclassification to major.

    - `escalated` (optionally to `supervisor_id`) meets the escalation clock;
    - `in_progress` or `resolved` meets the coordination clock; `resolved` needs the handling
      result (`result`, else the note);
    - `closed` only from `resolved` and only with the customer satisfied: `customer_satisfied:
      true` here, or the latest contact recorded them satisfied.
    """
    _require_open_for_dispatch(actor, complaint)
    now = ctx.now()
    note = (changes.get("note") or "").strip() or None
    changed = False
    severity = changes.get("severity")
    if severity is not None and severity != complaint.severity:
        if severity not in rules.SEVERITIES:
            raise DomainError("bad_severity", {"severity": severity,
                                               "allowed": rules.SEVERITIES})
        if severity == rules.GENERAL:
            raise DomainError("severity_downgrade", {"severity": complaint.severity},
                              status=409)
        # Classified major later: the hour to reach a supervisor starts now.
        complaint.severity = severity
        _start_clock(ctx, complaint, sla_rules.ESCALATION, ctx.policy.complaint_escalation)
        record_event(ctx, actor, complaint, "reclassified", {"to": severity, "note": note})
        changed = True
    to = changes.get("status")
    if to is not None and to != complaint.status:
        frm = complaint.status
        try:
            rules.check_move(frm, to)
        except rules.MoveRefused as refused:
            raise DomainError(refused.code, {"from": frm, "to": to,
                                             "allowed": list(refused.allowed)},
                              status=422 if refused.code == "unknown_status" else 409)
        data = {"from": frm, "to": to}
        if to == rules.ESCALATED:
            supervisor_id = changes.get("supervisor_id")
            if supervisor_id is not None:
                _user_with_role(ctx, supervisor_id, SUPERVISOR, "unknown_supervisor")
            complaint.escalated_to_id = supervisor_id
            complaint.escalated_at = now
            data["supervisor_id"] = supervisor_id
        if to == rules.RESOLVED:
            result = (changes.get("result") or "").strip() or note
            if not result:
                raise DomainError("result_required", {"from": frm, "to": to})
            complaint.result = result
            complaint.resolved_at = now
            data["result"] = result
        if to == rules.CLOSED:
            satisfied = changes.get("customer_satisfied") is True or \
                _latest_contact_satisfied(ctx.session, complaint)
            if not satisfied:
                raise DomainError("customer_not_satisfied", {"from": frm, "to": to},
                                  status=409)
            complaint.customer_satisfied = True
            complaint.closed_at = now
            ctx.session.execute(sql_update(SlaClock).where(
                SlaClock.complaint_id == complaint.id, SlaClock.met_at.is_(None),
                SlaClock.stopped_at.is_(None)).values(stopped_at=now))
        if frm == rules.RESOLVED and to == rules.IN_PROGRESS:
            complaint.customer_satisfied = False  # reopened: the customer is not satisfied
        complaint.status = to
        met = _meet(ctx, complaint, rules.MEETS.get(to, ()), now)
        if met:
            data["clocks_met"] = met
        if note:
            data["note"] = note
        event = record_event(ctx, actor, complaint,
                             to if to == rules.ESCALATED else "status", data)
        if to == rules.ESCALATED:
            ctx.session.flush()
            _notify_escalation(ctx, actor, complaint, event, note)
        changed = True
    elif note and not changed:
        record_event(ctx, actor, complaint, "note", {"note": note})
        changed = True
    if not changed:
        raise DomainError("nothing_to_change", {})
    complaint.updated_at = now
    return complaint


def _notify_escalation(ctx: Ctx, actor: Actor, complaint: Complaint, event: ComplaintEvent,
                       note: str | None) -> None:
    """The supervisor it was escalated to (or every supervisor when none was named) hears of
    it at once, in-app (fieldapp/notifications/service.py)."""
    from flask_babel import lazy_gettext as _l  # why: no Flask on import


    recipients = [complaint.escalated_to_id] if complaint.escalated_to_id else [SUPERVISOR]
    notifications.notify(
        ctx, "complaint_escalated", recipients,
        subject=_l("Complaint escalated to you: %(ref)s", ref=complaint.ref),
        body=_l("%(who)s escalated complaint %(ref)s from %(name)s: %(content)s %(note)s",
                who=actor.user.display_name, ref=complaint.ref,
                name=complaint.complainant_name, content=complaint.content[:300],
                note=note or ""),
        complaint_id=complaint.id, job_id=complaint.job_id,
        key=f"complaint_escalated:{complaint.id}:{event.id}")


def _latest_contact_satisfied(session: Session, complaint: Complaint) -> bool:
    latest = session.execute(
        select(ComplaintContact.satisfied).where(ComplaintContact.complaint_id == complaint.id,
                                                 ComplaintContact.satisfied.is_not(None))
        .order_by(desc(ComplaintContact.id)).limit(1)).scalar_one_or_none()
    return latest is True


def record_contact(ctx: Ctx, actor: Actor, complaint: Complaint, outcome: str,
                   note: str | None, satisfied: bool | None = None) -> ComplaintContact:
    """A call with the complainant. Reaching them may record whether they are satisfied."""
    require_role(actor, DISPATCH_ROLES)
    if outcome not in CONTACT_OUTCOMES:
        raise DomainError("bad_outcome", {"outcome": outcome, "allowed": CONTACT_OUTCOMES})
    if satisfied is not None and outcome != "reached":
        raise DomainError("satisfaction_needs_contact", {"outcome": outcome})
    now = ctx.now()
    contact = ComplaintContact(complaint_id=complaint.id, outcome=outcome, satisfied=satisfied,
                               note=(note or "").strip() or None, by_id=actor.id, at=now)
    ctx.session.add(contact)
    if satisfied is not None and complaint.status != rules.CLOSED:
        complaint.customer_satisfied = satisfied
    complaint.updated_at = now
    record_event(ctx, actor, complaint, "contact", {"outcome": outcome, "note": contact.note,
                                                    "satisfied": satisfied})
    return contact


def spawn_job(ctx: Ctx, actor: Actor, complaint: Complaint, data: dict) -> Job:
    """A return visit for the complainant (an inspection or repair job), linked both ways."""
    _require_open_for_dispatch(actor, complaint)
    if data.get("type") not in RETURN_JOB_TYPES:
        raise DomainError("bad_type", {"type": data.get("type"), "allowed": RETURN_JOB_TYPES})
    source = complaint.job
    address = (data.get("address") or "").strip() or (source.address if source else None) \
        or complaint.customer.address
    if not address:
        raise DomainError("address_required", {})
    product = (data.get("product_model") or "").strip() or \
        (source.product_model if source else "") or "—"
    problem = (data.get("problem") or "").strip() or complaint.content
    job = job_service.intake(ctx, actor, {
        "type": data["type"],
        "customer": {"name": complaint.complainant_name, "phone": complaint.complainant_phone,
                     "address": address},
        "product_model": product, "problem": problem, "channel": "phone",
        "priority": data.get("priority") or "urgent",
        "scheduled_start": data.get("scheduled_start"),
        "scheduled_end": data.get("scheduled_end"),
        "technician_id": data.get("technician_id")})
    ctx.session.flush()
    ctx.session.add(ComplaintJob(complaint_id=complaint.id, job_id=job.id,
                                 created_at=ctx.now()))
    job_service.record_event(ctx, actor, job, "from_complaint", {
        "complaint_id": complaint.id, "ref": complaint.ref})
    record_event(ctx, actor, complaint, "job_created", {"job_id": job.id, "ref": job.ref,
                                                        "type": job.type})
    complaint.updated_at = ctx.now()
    return job


# --- shapes --------------------------------------------------------------------------------

def clocks_for(session: Session, complaint_ids: list[str]) -> dict[str, list[SlaClock]]:
    out: dict[str, list[SlaClock]] = {cid: [] for cid in complaint_ids}
    if complaint_ids:
        for clock in session.execute(select(SlaClock).where(
                SlaClock.complaint_id.in_(complaint_ids))).scalars():
            out[clock.complaint_id].append(clock)
    return out


def sla_list(clocks: list[SlaClock], now) -> list[dict]:
    order = {name: i for i, name in enumerate(rules.CLOCK_ORDER)}
    return [{"name": c.name, "due_at": iso(c.due_at), "met_at": iso(c.met_at),
             "state": sla_rules.clock_state(c.due_at, c.met_at, now)}
            for c in sorted(clocks, key=lambda c: order.get(c.name, 99))]


def summary(complaint: Complaint, clocks: list[SlaClock], now) -> dict:
    return {
        "id": complaint.id, "ref": complaint.ref, "status": complaint.status,
        "severity": complaint.severity, "about": complaint.about,
        "about_technician_id": complaint.about_technician_id,
        "content": complaint.content, "job_id": complaint.job_id,
        "customer": {"id": complaint.customer_id, "name": complaint.complainant_name,
                     "phone": complaint.complainant_phone},
        "evidence_sha256": complaint.evidence_sha256, "result": complaint.result,
        "customer_satisfied": complaint.customer_satisfied,
        "escalated_to_id": complaint.escalated_to_id,
        "escalated_at": iso(complaint.escalated_at), "resolved_at": iso(complaint.resolved_at),
        "closed_at": iso(complaint.closed_at), "created_at": iso(complaint.created_at),
        "updated_at": iso(complaint.updated_at),
        "sla": sla_list(clocks, now),
    }


def detail(session: Session, complaint: Complaint, now) -> dict:
    out = summary(complaint, clocks_for(session, [complaint.id])[complaint.id], now)
    out["contacts"] = [{"id": c.id, "outcome": c.outcome, "satisfied": c.satisfied,
                        "note": c.note, "by_id": c.by_id, "at": iso(c.at)}
                       for c in contacts(session, complaint)]
    out["jobs"] = [{"id": j.id, "ref": j.ref, "type": j.type, "status": j.status}
                   for j in spawned_jobs(session, complaint)]
    out["events"] = [{"id": e.id, "type": e.type, "data": e.data, "actor_id": e.actor_id,
                      "actor_role": e.actor_role,
                      "actor": e.actor.display_name if e.actor else None,
                      "server_at": iso(e.server_at)}
                     for e in events(session, complaint)]
    return out


def contacts(session: Session, complaint: Complaint) -> list[ComplaintContact]:
    return session.execute(select(ComplaintContact)
                           .where(ComplaintContact.complaint_id == complaint.id)
                           .order_by(ComplaintContact.id)).scalars().all()


def events(session: Session, complaint: Complaint) -> list[ComplaintEvent]:
    return session.execute(select(ComplaintEvent)
                           .where(ComplaintEvent.complaint_id == complaint.id)
                           .order_by(ComplaintEvent.id)).scalars().all()


def spawned_jobs(session: Session, complaint: Complaint) -> list[Job]:
    return session.execute(select(Job).join(ComplaintJob, ComplaintJob.job_id == Job.id)
                           .where(ComplaintJob.complaint_id == complaint.id)
                           .order_by(ComplaintJob.id)).scalars().all()


def for_job(session: Session, job: Job) -> list[Complaint]:
    """Complaints about this job, and the one it was spawned from."""
    spawned_from = select(ComplaintJob.complaint_id).where(ComplaintJob.job_id == job.id)
    return session.execute(select(Complaint).where(
        (Complaint.job_id == job.id) | Complaint.id.in_(spawned_from))
        .order_by(Complaint.created_at)).scalars().all()

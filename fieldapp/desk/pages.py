"""The office's pages as data: one function per page of the desk (/dispatch/) and the review
(/review/), which their views call before adding their forms and rendering. Plain Python
over the session: no Flask here, so a page's data is testable without a request."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.accounts import service as accounts
from fieldapp.accounts.models import Device, User
from fieldapp.complaints import service as complaint_service
from fieldapp.complaints.models import Complaint
from fieldapp.core import complaints as complaint_rules
from fieldapp.core import sla as sla_rules
from fieldapp.core import states
from fieldapp.core.roles import SUPERVISOR, TECHNICIAN
from fieldapp.core.sla import clock_state
from fieldapp.core.standard_checklists import PHASE_LABELS, PHASES
from fieldapp.desk import service as desk
from fieldapp.jobs import service as job_service
from fieldapp.jobs.counters import current as current_counter
from fieldapp.jobs.models import Conflict, ContactAttempt, Job, JobEvent
from fieldapp.jobs.views import clocks_for, job_detail
from fieldapp.notifications import service as notifications
from fieldapp.notifications.models import Delivery
from fieldapp.parts import service as parts_service
from fieldapp.parts.models import PartsRequest, Takeback
from fieldapp.settings import service as settings_service
from fieldapp.settings.service import DeskSettings
from fieldapp.visits import service as visit_service


def active_technicians(session: Session) -> list[User]:
    return session.execute(select(User).where(User.role == TECHNICIAN, User.active.is_(True))
                           .order_by(User.display_name, User.id)).scalars().all()


def users_by_id(session: Session) -> dict[int, User]:
    """Every account by id: the pages name who did what in their audit trails."""
    return {u.id: u for u in session.execute(select(User)).scalars()}


# --- the desk ------------------------------------------------------------------------------

def board_stamp(session: Session, day: date, now: datetime) -> str:
    """Changes when anything on the board may have: a job (the change counter), a phone's
    sync, or the minute (clocks change colour with time)."""
    syncs = session.execute(select(func.max(Device.last_push_at),
                                   func.max(Device.last_pull_at))).one()
    minute = int(now.timestamp() // 60)
    raw = f"{day}|{current_counter(session)}|{syncs[0]}|{syncs[1]}|{minute}"
    return hashlib.sha1(raw.encode()).hexdigest()[:16]


def job_page(session: Session, job: Job, now: datetime, policy: sla_rules.SlaPolicy,
             settings: DeskSettings) -> dict:
    """/dispatch/jobs/<id>: the job's clocks, calls, audit trail, late evidence, clashes with
    the technician's other jobs, complaints and return visit."""
    contacts = session.execute(select(ContactAttempt).where(ContactAttempt.job_id == job.id)
                               .order_by(ContactAttempt.id)).scalars().all()
    events = session.execute(select(JobEvent).where(JobEvent.job_id == job.id)
                             .order_by(JobEvent.id)).scalars().all()
    conflicts = session.execute(select(Conflict).where(Conflict.job_id == job.id)
                                .order_by(Conflict.id)).scalars().all()
    visit = visit_service.for_job(session, job.id)
    clashes = []
    if job.technician_id and job.scheduled_start and job.status in desk.OPEN_JOB:
        clashes = desk.overlapping_jobs(session, job.technician_id, job.scheduled_start,
                                        job.scheduled_end, exclude_job_id=job.id)
    return {
        "clocks": desk.clock_views(clocks_for(session, [job.id])[job.id], now, policy, settings,
                                   stopped=desk.job_is_stopped(job)),
        "contacts": contacts, "users": users_by_id(session), "events": events,
        "conflicts": conflicts, "clashes": clashes,
        "complaints": complaint_service.for_job(session, job),
        "return_visit": visit, "survey_link": visit and visit_service.survey_url(visit, now),
        "can_change": job.status not in states.CLOSED and job.status != states.COMPLETED,
        # cancelling it then is deliberate: the technician is on the way or at work
        "under_way": job.status in states.UNDER_WAY}


def job_rows(session: Session, jobs: list[Job], now: datetime, policy: sla_rules.SlaPolicy,
             settings: DeskSettings) -> list[tuple]:
    """A list of jobs with each one's worst clock (the jobs list)."""
    clocks = clocks_for(session, [j.id for j in jobs])
    return [(j, desk.worst(desk.clock_views(clocks[j.id], now, policy, settings,
                                            stopped=desk.job_is_stopped(j))))
            for j in jobs]


def complaint_clock_views(session: Session, complaints: list[Complaint], now: datetime,
                          policy: sla_rules.SlaPolicy, settings: DeskSettings) -> dict:
    clocks = complaint_service.clocks_for(session, [c.id for c in complaints])
    return {c.id: desk.clock_views(clocks[c.id], now, policy, settings,
                                   stopped=c.status not in complaint_rules.ACTIVE)
            for c in complaints}


def complaint_page(session: Session, complaint: Complaint, now: datetime,
                   policy: sla_rules.SlaPolicy, settings: DeskSettings) -> dict:
    """/dispatch/complaints/<id>: its clocks, calls, audit trail, the jobs it opened and the
    moves it may make next."""
    return {
        "clocks": complaint_clock_views(session, [complaint], now, policy,
                                        settings)[complaint.id],
        "contacts": complaint_service.contacts(session, complaint),
        "events": complaint_service.events(session, complaint),
        "jobs": complaint_service.spawned_jobs(session, complaint),
        "users": users_by_id(session), "moves": complaint_rules.MOVES[complaint.status]}


def active_supervisors(session: Session) -> list[User]:
    return session.execute(select(User).where(User.role == SUPERVISOR, User.active.is_(True))
                           .order_by(User.display_name)).scalars().all()


@dataclass
class TakebackRegister:
    rows: list[Takeback]
    days: int
    overdue: set = field(default_factory=set)
    out_total: int = 0
    overdue_total: int = 0
    by_model: list = field(default_factory=list)


def takeback_register(session: Session, viewer: User, status: str, now: datetime
                      ) -> TakebackRegister:
    """/dispatch/takebacks: products out for repair (`out`), back (`returned`) or `all`,
    which are overdue, and the counts by product model."""
    days = parts_service.overdue_days(session)
    stmt = parts_service.takebacks_query(viewer, None if status == "all" else status)
    order = (Takeback.taken_at, Takeback.id) if status == "out" else \
        (Takeback.taken_at.desc(), Takeback.id)
    rows = session.execute(stmt.order_by(*order).limit(500)).scalars().all()
    out_total = session.execute(select(func.count(Takeback.id))
                                .where(Takeback.status == "out")).scalar()
    overdue = [t.id for t in rows if parts_service.is_overdue(t, now, days)]
    if status != "out":
        overdue_total = session.execute(select(func.count(Takeback.id)).where(
            Takeback.status == "out", Takeback.taken_at < now - timedelta(days=days))).scalar()
    else:
        overdue_total = len(overdue)
    return TakebackRegister(rows=rows, days=days, overdue=set(overdue), out_total=out_total,
                            overdue_total=overdue_total,
                            by_model=parts_service.takebacks_by_model(session))


def deliveries_page(session: Session, status: str | None) -> dict:
    """/dispatch/deliveries: the outbox (one status, or all) and the count per status."""
    counts = dict(session.execute(select(Delivery.status, func.count(Delivery.id))
                                  .group_by(Delivery.status)).all())
    return {"rows": notifications.deliveries(session, status or None), "counts": counts}


def settings_page(session: Session) -> dict:
    """/dispatch/settings: the history of changes and who made them."""
    return {"history": settings_service.history(session), "users": users_by_id(session)}


def return_visit_queue(session: Session, now: datetime, timezone: str) -> dict:
    """/dispatch/return-visits: the visits to call (oldest due first, which are overdue),
    the recent answers, after how many days a visit falls due."""
    due = visit_service.queue(session)
    return {"due": due, "overdue": {v.id: visit_service.overdue(v, now) for v in due},
            "answered": visit_service.recent_answers(session),
            "days": visit_service.return_visit_days(session, timezone)}


# --- the administration (/admin/) -----------------------------------------------------------

@dataclass
class DeviceRow:
    device: Device
    user: User
    last_sync_at: datetime | None
    pending: int | None  # as the phone last reported; revoked: what the office never got
    revoked_by: User | None


def devices_page(session: Session) -> dict:
    """/admin/devices: every device, live ones first, with its user, last sync, the changes
    it said were waiting, and who revoked it; `lost`: revoked devices that had changes
    waiting, said on the page rather than left silent."""
    devices = session.execute(select(Device).order_by(Device.created_at.desc(), Device.id)
                              ).scalars().all()
    people = users_by_id(session)
    rows = []
    for device in devices:
        synced = [at for at in (device.last_push_at, device.last_pull_at) if at is not None]
        rows.append(DeviceRow(device, people[device.user_id], max(synced) if synced else None,
                              accounts.pending_reported(device),
                              people.get(device.revoked_by_id)))
    rows.sort(key=lambda row: row.device.revoked_at is not None)  # stable: newest first
    lost = [row for row in rows if row.revoked_by is not None and row.pending]
    return {"rows": rows, "lost": lost}


# --- the review ----------------------------------------------------------------------------

def review_queue(session: Session) -> dict:
    """/review/: completed jobs oldest first (with unresolved late evidence and open
    complaints marked: approving one of those needs an override), and the last ten signed
    off."""
    jobs = session.execute(select(Job).where(Job.status == states.COMPLETED)
                           .order_by(Job.completed_at, Job.id)).scalars().all()
    late = dict(session.execute(
        select(Conflict.job_id, Conflict.id).where(Conflict.job_id.in_([j.id for j in jobs]),
                                                   Conflict.resolved_at.is_(None))).all()) \
        if jobs else {}
    complaints: dict[str, list[Complaint]] = {}
    if jobs:  # one query for the page, the same complaints job_service.open_complaints lists
        for complaint in session.execute(select(Complaint).where(
                Complaint.job_id.in_([j.id for j in jobs]),
                Complaint.status.in_(tuple(complaint_rules.ACTIVE)))
                .order_by(Complaint.created_at, Complaint.id)).scalars():
            complaints.setdefault(complaint.job_id, []).append(complaint)
    recent = session.execute(select(Job).where(Job.status == states.APPROVED)
                             .order_by(Job.approved_at.desc()).limit(10)).scalars().all()
    return {"jobs": jobs, "late": late, "complaints": complaints, "recent": recent}


# Time of record (issue 16): the timeline shows when a thing happened; when it reached the
# server is shown beside it only where that is notably later (offline work synced later).
NOTABLE_DELAY = timedelta(minutes=2)


def _parse(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def synced_if_notable(happened: datetime | None, received: datetime | None):
    if happened is None or received is None or received - happened < NOTABLE_DELAY:
        return None
    return received


def review_job(session: Session, job: Job, viewer: User, now: datetime) -> dict:
    """/review/jobs/<id>: the job's evidence by checklist phase, photos by item, the
    timeline with times of record, and whether it waits for a decision."""
    detail = job_detail(session, job, viewer, now)
    items = [item.as_rule() for item in job.template.items]
    photos_by_item: dict[str, list] = {}
    for photo in detail["photos"]:
        photos_by_item.setdefault(photo["item_key"] or "", []).append(photo)
    phases = [(phase, PHASE_LABELS[phase], [i for i in items if i["phase"] == phase])
              for phase in PHASES]
    for event in detail["events"]:
        event["at_dt"] = _parse(event["at"])
        event["synced_dt"] = synced_if_notable(event["at_dt"], _parse(event["server_at"]))
    for answer in detail["answers"].values():
        answer["at_dt"] = _parse(answer["at"])
        answer["synced_dt"] = synced_if_notable(answer["at_dt"], _parse(answer["received_at"]))
    return {"d": detail, "phases": phases, "photos_by_item": photos_by_item,
            "can_decide": job.status == states.COMPLETED,
            "open_complaints": job_service.open_complaints(session, job.id)}


def review_complaint(session: Session, complaint: Complaint, now: datetime) -> dict:
    """/review/complaints/<id> (read only): its clocks' states, calls and audit trail."""
    clocks = complaint_service.clocks_for(session, [complaint.id])[complaint.id]
    return {"clocks": [(c, clock_state(c.due_at, c.met_at, now))
                       for c in sorted(clocks, key=lambda c: c.name)],
            "contacts": complaint_service.contacts(session, complaint),
            "events": complaint_service.events(session, complaint),
            "users": users_by_id(session)}


def parts_queue(session: Session, viewer: User) -> list[PartsRequest]:
    """/review/parts: the requests waiting for a decision, oldest first."""
    return session.execute(parts_service.parts_query(viewer, "pending")
                           .order_by(PartsRequest.created_at, PartsRequest.id)).scalars().all()


def parts_log(session: Session, viewer: User, status: str | None, kind: str | None,
              cause: str | None, since: datetime | None) -> dict:
    """/review/parts/log: the requests matching the filters (newest first, at most 500), how
    many match, and the counts by cause."""
    stmt = parts_service.parts_query(viewer, status, kind, cause)
    if since is not None:
        stmt = stmt.where(PartsRequest.created_at >= since)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar()
    rows = session.execute(stmt.order_by(PartsRequest.created_at.desc(), PartsRequest.id)
                           .limit(500)).scalars().all()
    return {"rows": rows, "total": total,
            "by_cause": parts_service.parts_by_cause(session, since)}


def parts_for_export(session: Session, viewer: User) -> list[PartsRequest]:
    """/review/parts/log.csv: every request the viewer may see, oldest first."""
    return session.execute(parts_service.parts_query(viewer)
                           .order_by(PartsRequest.created_at, PartsRequest.id)).scalars().all()


def job_parts(session: Session, job_id: str) -> dict:
    """A job's parts requests and take-back receipts (both faces' job pages)."""
    rows = session.execute(select(PartsRequest).where(PartsRequest.job_id == job_id)
                           .order_by(PartsRequest.created_at, PartsRequest.id)).scalars().all()
    return {"parts": rows, "takebacks": parts_service.takebacks_for_job(session, job_id)}

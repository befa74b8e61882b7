"""What the dispatcher's desk reads: the day's board, each technician's live state, clocks as
time left, double bookings, searches and lists that stay fast at 100,000 jobs, breaches, a
returning customer's history; and the one desk-only change, resolving late evidence.

Lists page by keyset (the last row's sort key), never by OFFSET, on indexed columns
(`ix_jobs_created`, `ix_jobs_scheduled_start`, `customers.phone_key`, `jobs.ref`); names and
phone fragments through the search index made for them (fieldapp/jobs/search_index.py:
FTS5 on SQLite, pg_trgm on PostgreSQL).
"""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from fieldapp.accounts.context import Actor, Ctx
from fieldapp.accounts.models import Device, User
from fieldapp.complaints.models import Complaint
from fieldapp.core import complaints as complaint_rules
from fieldapp.core import sla as sla_rules
from fieldapp.core import states
from fieldapp.core.clock import ensure_aware
from fieldapp.core.errors import DomainError
from fieldapp.core.roles import DISPATCH_ROLES, TECHNICIAN
from fieldapp.jobs import search_index
from fieldapp.jobs import service as job_service
from fieldapp.jobs.models import Conflict, Customer, Job, SlaClock
from fieldapp.jobs.views import clocks_for
from fieldapp.settings.service import DeskSettings

PAGE_SIZE = 50
COUNT_CAP = 10_000
# A name or phone fragment is counted only this far ("more than 200"): each match counted is a
# row read (PostgreSQL rechecks every trigram candidate), so a full count grows with the
# table; four pages tell the dispatcher to type more (issue 17, "Fast at 100,000 jobs").
SEARCH_COUNT_CAP = 200
DEFAULT_VISIT = timedelta(hours=2)  # a window with no end is taken as two hours
ACTIVE_WORK = (states.EN_ROUTE, states.ON_SITE, states.IN_PROGRESS, states.PAUSED)
OPEN_JOB = tuple(s for s in states.STATUSES
                 if s not in (states.COMPLETED, states.APPROVED, states.CANCELLED))
REF_RE = re.compile(r"^[A-Za-z]{2}\d{6}-\d{1,6}$")


# --- clocks as time left -------------------------------------------------------------------

@dataclass
class ClockView:
    name: str
    state: str            # running | met | breached (the contract's)
    level: str            # ok | warning | breached (running: the desk's colour), or history:
                          # met | met_late | stopped | missed (core/sla.py clock_level)
    due_at: datetime
    met_at: datetime | None
    seconds_left: float   # until due (negative: overdue); for a met clock, margin at meeting
    fraction_left: float

    def as_dict(self) -> dict:
        return {"name": self.name, "state": self.state, "level": self.level,
                "due_at": job_service.iso(self.due_at), "met_at": job_service.iso(self.met_at),
                "seconds_left": int(self.seconds_left),
                "fraction_left": round(self.fraction_left, 3)}


LEVEL_RANK = {"breached": 4, "warning": 3, "ok": 2, "met": 1, "met_late": 1, "stopped": 0,
              "missed": 0}
CLOCK_ORDER = {name: i for i, name in
               enumerate(sla_rules.JOB_CLOCKS + complaint_rules.CLOCK_ORDER)}


def clock_views(clocks: list[SlaClock], now: datetime, policy: sla_rules.SlaPolicy,
                desk: DeskSettings, stopped: bool = False) -> list[ClockView]:
    """`stopped`: the job or complaint is closed; an unmet clock no longer runs.

    Levels (core/sla.py): `ok`, `warning` (amber: the last `warn_percent` of the limit),
    `breached` (red) while the clock runs, which is while someone can act on it; `met` or
    `met_late`; and for an unmet clock that stopped, history: `missed` (it stopped after its due time) or
    `stopped` (before). Only amber and red are alarms."""
    out = []
    for c in sorted(clocks, key=lambda c: CLOCK_ORDER.get(c.name, 99)):
        state = sla_rules.clock_state(c.due_at, c.met_at, now)
        stopped_at = c.stopped_at or (now if stopped else None)
        level = sla_rules.clock_level(c.started_at, c.due_at, c.met_at, now, c.unit, policy,
                                      desk.warn_fraction, stopped=stopped_at)
        # A stopped clock's time is frozen where it stopped (a missed one: how late it was).
        until = c.met_at or stopped_at or now
        out.append(ClockView(
            name=c.name, state=state, level=level, due_at=ensure_aware(c.due_at),
            met_at=ensure_aware(c.met_at) if c.met_at else None,
            seconds_left=(ensure_aware(c.due_at) - ensure_aware(until)).total_seconds(),
            fraction_left=sla_rules.fraction_left(c.started_at, c.due_at, until, c.unit,
                                                  policy)))
    return out


def worst(views: list[ClockView]) -> ClockView | None:
    """The clock that most needs attention (breached, then amber, then the soonest due);
    None when no clock runs (met and stopped ones are history, not alarms)."""
    running = [v for v in views if v.level in ("breached", "warning", "ok")]
    if not running:
        return None
    return max(running, key=lambda v: (LEVEL_RANK[v.level], -v.seconds_left))


def job_is_stopped(job: Job) -> bool:
    return job.status in (states.CANCELLED, states.APPROVED)


# --- the board -----------------------------------------------------------------------------

def day_bounds(day: date, policy: sla_rules.SlaPolicy) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), policy.tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), policy.tz)


def local_today(now: datetime, policy: sla_rules.SlaPolicy) -> date:
    return now.astimezone(policy.tz).date()


def window(job: Job) -> tuple[datetime, datetime] | None:
    if job.scheduled_start is None:
        return None
    start = ensure_aware(job.scheduled_start)
    end = ensure_aware(job.scheduled_end) if job.scheduled_end else start + DEFAULT_VISIT
    return start, end


def double_booked(jobs: list[Job]) -> dict[str, list[Job]]:
    """For one technician's jobs: each job whose window overlaps another's, with the others."""
    timed = sorted(((window(j), j) for j in jobs
                    if window(j) is not None and j.status not in (states.CANCELLED,)),
                   key=lambda pair: pair[0][0])
    clashes: dict[str, list[Job]] = {}
    for i, ((start, end), job) in enumerate(timed):
        for (other_start, other_end), other in timed[i + 1:]:
            if other_start >= end:
                break
            if start < other_end:
                clashes.setdefault(job.id, []).append(other)
                clashes.setdefault(other.id, []).append(job)
    return clashes


def overlapping_jobs(session: Session, technician_id: int, start: datetime,
                     end: datetime | None, exclude_job_id: str | None = None) -> list[Job]:
    """The technician's other live jobs whose windows overlap [start, end)."""
    start = ensure_aware(start)
    end = ensure_aware(end) if end else start + DEFAULT_VISIT
    stmt = (select(Job).where(Job.technician_id == technician_id,
                              Job.status.in_(OPEN_JOB),
                              Job.scheduled_start < end,
                              Job.scheduled_start >= start - timedelta(days=2))
            .order_by(Job.scheduled_start))
    if exclude_job_id:
        stmt = stmt.where(Job.id != exclude_job_id)
    out = []
    for job in session.execute(stmt).scalars():
        job_start, job_end = window(job)
        if job_start < end and start < job_end:
            out.append(job)
    return out


@dataclass
class CurrentJob:
    id: str
    ref: str
    status: str


@dataclass
class TechState:
    user: User
    current: CurrentJob | None   # the job they are working on now (en route, on site, ...)
    last_sync: datetime | None   # newest push or pull of any of their devices
    offline_long: bool
    jobs_today: int = 0
    # What their most recently pushing phone last said about itself (issue 16): `storage`
    # {persisted, sw, idb} and `pending`, as sync/engine.py keeps it; None: never reported.
    client: dict | None = None

    @property
    def storage_missing(self) -> list[str] | None:
        """The offline storage checks the phone reported failing ([] all fine, None unknown)."""
        storage = (self.client or {}).get("storage")
        if not storage:
            return None
        return [key for key in ("sw", "idb", "persisted") if storage.get(key) is False]


@dataclass
class Card:
    job: Job
    clocks: list[ClockView]
    worst: ClockView | None
    clashes: list[Job] = field(default_factory=list)


@dataclass
class Lane:
    tech: TechState
    cards: list[Card]

    @property
    def clashes(self) -> int:
        return sum(1 for c in self.cards if c.clashes)


@dataclass
class Board:
    day: date
    today: date
    lanes: list[Lane]
    unassigned: list[Card]
    unassigned_total: int
    to_reschedule: list[Card]
    counts: dict


def in_working_time(now: datetime, policy: sla_rules.SlaPolicy) -> bool:
    local = now.astimezone(policy.tz)
    return policy.is_working_day(local.date()) and \
        policy.day_start <= local.time() < policy.day_end


def technician_states(session: Session, techs: list[User], now: datetime,
                      policy: sla_rules.SlaPolicy, desk: DeskSettings,
                      busy_today: set[int]) -> dict[int, TechState]:
    ids = [t.id for t in techs]
    syncs: dict[int, datetime] = {}
    if ids:
        for user_id, push, pull in session.execute(
                select(Device.user_id, func.max(Device.last_push_at),
                       func.max(Device.last_pull_at))
                .where(Device.user_id.in_(ids)).group_by(Device.user_id)):
            seen = [ensure_aware(v) for v in (push, pull) if v is not None]
            if seen:
                syncs[user_id] = max(seen)
    clients: dict[int, dict] = {}
    if ids:
        for user_id, client in session.execute(
                select(Device.user_id, Device.client)
                .where(Device.user_id.in_(ids), Device.client.is_not(None),
                       Device.revoked_at.is_(None))
                .order_by(Device.last_push_at.asc().nulls_first())):
            clients[user_id] = client  # the latest push wins
    current: dict[int, CurrentJob] = {}
    if ids:
        for row in session.execute(select(Job.technician_id, Job.id, Job.ref, Job.status)
                                   .where(Job.technician_id.in_(ids),
                                          Job.status.in_(ACTIVE_WORK))
                                   .order_by(Job.updated_at)):
            current[row.technician_id] = CurrentJob(row.id, row.ref, row.status)  # newest wins
    working = in_working_time(now, policy)
    opened = datetime.combine(local_today(now, policy), policy.day_start, policy.tz)
    out = {}
    for tech in techs:
        last = syncs.get(tech.id)
        # Offline for long: expected at work today, and silent for longer than the setting,
        # counting only working time (a phone off overnight is not "offline for long"; one
        # that never synced counts from today's opening).
        silent = sla_rules.working_seconds_between(last or opened, now, policy)
        offline = working and tech.id in busy_today and \
            silent > desk.offline_after_minutes * 60
        out[tech.id] = TechState(user=tech, current=current.get(tech.id), last_sync=last,
                                 offline_long=offline, client=clients.get(tech.id))
    return out


def board(session: Session, day: date, now: datetime, policy: sla_rules.SlaPolicy,
          desk: DeskSettings, queue_limit: int = 100) -> Board:
    start, end = day_bounds(day, policy)
    day_jobs = session.execute(
        select(Job).where(Job.scheduled_start >= start, Job.scheduled_start < end,
                          Job.technician_id.is_not(None), Job.status != states.CANCELLED)
        .options(selectinload(Job.technician))
        .order_by(Job.scheduled_start, Job.ref)).scalars().all()
    unassigned_stmt = select(Job).where(Job.technician_id.is_(None), Job.status.in_(OPEN_JOB))
    unassigned = session.execute(
        unassigned_stmt.order_by((Job.priority == "urgent").desc(), Job.created_at, Job.id)
        .limit(queue_limit)).scalars().all()
    unassigned_total = session.execute(
        select(func.count()).select_from(unassigned_stmt.limit(COUNT_CAP).subquery())
    ).scalar()
    to_reschedule = session.execute(
        select(Job).where(Job.status == states.UNSUCCESSFUL, Job.technician_id.is_not(None))
        .options(selectinload(Job.technician))
        .order_by(Job.updated_at).limit(queue_limit)).scalars().all()
    all_jobs = list(day_jobs) + list(unassigned) + list(to_reschedule)
    clocks = clocks_for(session, list({j.id for j in all_jobs}))

    def card(job: Job) -> Card:
        views = clock_views(clocks[job.id], now, policy, desk, stopped=job_is_stopped(job))
        return Card(job=job, clocks=views, worst=worst(views))

    techs = session.execute(select(User).where(User.role == TECHNICIAN, User.active.is_(True))
                            .order_by(User.display_name, User.id)).scalars().all()
    by_tech: dict[int, list[Job]] = {}
    for job in day_jobs:
        by_tech.setdefault(job.technician_id, []).append(job)
    # A visit held by someone no longer an active technician still gets a lane.
    techs = list(techs)
    known = {t.id for t in techs}
    for job in day_jobs:
        if job.technician is not None and job.technician_id not in known:
            known.add(job.technician_id)
            techs.append(job.technician)
    live = technician_states(session, techs, now, policy, desk,
                             busy_today=set(by_tech) if day == local_today(now, policy)
                             else set())
    lanes = []
    counts = {"jobs": len(day_jobs), "unassigned": unassigned_total,
              "to_reschedule": len(to_reschedule), "breached": 0, "warning": 0,
              "needs_review": 0, "double_booked": 0, "offline": 0}
    for tech in techs:
        jobs = by_tech.get(tech.id, [])
        clashes = double_booked(jobs)
        cards = []
        for job in jobs:
            c = card(job)
            c.clashes = clashes.get(job.id, [])
            cards.append(c)
        state = live[tech.id]
        state.jobs_today = len(jobs)
        lanes.append(Lane(tech=state, cards=cards))
        counts["double_booked"] += len(clashes)
        counts["offline"] += int(state.offline_long)
    queue = [card(j) for j in unassigned]
    redo = [card(j) for j in to_reschedule]
    for c in [c for lane in lanes for c in lane.cards] + queue + redo:
        if c.worst is not None and c.worst.level in ("breached", "warning"):
            counts[c.worst.level] += 1
        counts["needs_review"] += int(bool(c.job.needs_review))
    return Board(day=day, today=local_today(now, policy), lanes=lanes, unassigned=queue,
                 unassigned_total=unassigned_total, to_reschedule=redo, counts=counts)


def board_dict(b: Board) -> dict:
    """The board as JSON (for board.js and integrations)."""
    def card(c: Card) -> dict:
        j = c.job
        return {"id": j.id, "ref": j.ref, "type": j.type, "status": j.status,
                "priority": j.priority, "customer": j.contact_name,
                "scheduled_start": job_service.iso(j.scheduled_start),
                "scheduled_end": job_service.iso(j.scheduled_end),
                "technician_id": j.technician_id, "needs_review": j.needs_review,
                "double_booked_with": [o.ref for o in c.clashes],
                "sla": [v.as_dict() for v in c.clocks]}

    return {
        "day": b.day.isoformat(), "counts": b.counts,
        "lanes": [{"technician": lane.tech.user.public(),
                   "current_job": ({"id": lane.tech.current.id, "ref": lane.tech.current.ref,
                                    "status": lane.tech.current.status}
                                   if lane.tech.current else None),
                   "last_sync": job_service.iso(lane.tech.last_sync),
                   "client": lane.tech.client,
                   "offline_long": lane.tech.offline_long,
                   "jobs": [card(c) for c in lane.cards]} for lane in b.lanes],
        "unassigned": [card(c) for c in b.unassigned],
        "unassigned_total": b.unassigned_total,
        "to_reschedule": [card(c) for c in b.to_reschedule],
    }


# --- search and lists ----------------------------------------------------------------------

@dataclass
class JobFilter:
    q: str = ""
    status: str = ""
    technician: str = ""     # "" any, "none" unassigned, else a user id
    date_field: str = "created"  # created | scheduled
    date_from: date | None = None
    date_to: date | None = None
    needs_review: bool = False

    @property
    def by_schedule(self) -> bool:
        return self.date_field == "scheduled" and (self.date_from or self.date_to) is not None


def phone_digits(value: str) -> str:
    return job_service.phone_key(value)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _customer_ids_for_phone(digits: str):
    """Customers by phone. A whole number (11 digits and more) through the phone_key index;
    7 to 10 digits as the start of a number (an index range: digits sort the same in every
    collation) or its ending; 4 to 6 digits as the number's ending (尾号): on PostgreSQL
    through the phone_key trigram index, on SQLite a scan of the customers (the jobs list
    uses the FTS5 index instead: `_job_phone_condition`)."""
    ending = Customer.phone_key.like("%" + digits)
    if len(digits) >= 11:
        return select(Customer.id).where(Customer.phone_key == digits)
    if len(digits) >= 7:
        upper = str(int(digits) + 1).zfill(len(digits)) if set(digits) != {"9"} else "a"
        return select(Customer.id).where(or_(
            and_(Customer.phone_key >= digits, Customer.phone_key < upper), ending))
    return select(Customer.id).where(ending)


def query_kind(q: str) -> str:
    q = q.strip()
    if not q:
        return ""
    if REF_RE.match(q):
        return "ref"
    if re.fullmatch(r"[\d\s+()\-]+", q) and len(phone_digits(q)) >= 4:
        return "phone"
    return "name"


def _text_condition(q: str, dialect: str):
    """The search box's condition: a reference, a phone number or part of one, a name."""
    kind = query_kind(q)
    if kind == "ref":
        return Job.ref == q.upper()
    text = phone_digits(q) if kind == "phone" else q
    if search_index.uses_fts(dialect, kind, text):
        return Job.id.in_(search_index.fts_job_ids(search_index.fts_conditions(kind, text)))
    if kind == "phone":
        return Job.customer_id.in_(_customer_ids_for_phone(text))
    return search_index.name_condition(Job.__table__, dialect, q)


def _index_alone(f: JobFilter, dialect: str) -> tuple | None:
    """SQLite, when the search box is the list's only filter and holds a name or part of a
    phone number: (the FTS5 conditions, or None for a name shorter than a trigram). Then a
    page's ids come from the search index alone (its entries carry the list's sort key) and
    only those jobs are read; otherwise every matching job would be read to sort them."""
    q = f.q.strip()
    kind = query_kind(q)
    text = phone_digits(q) if kind == "phone" else q
    others = (f.status, f.technician, f.needs_review, f.date_from, f.date_to)
    if dialect != "sqlite" or any(others) or f.by_schedule:
        return None
    if search_index.uses_fts(dialect, kind, text):
        return (search_index.fts_conditions(kind, text),)
    if kind == "name":  # ix_jobs_name_prefix: (name, created_at, id)
        return (None,)
    return None


def _newest_ids(session: Session, f: JobFilter, dialect: str, fts: list | None, after,
                limit: int):
    if fts is not None:
        return search_index.fts_newest_job_ids(
            fts, after, limit, walk=search_index.walk_is_cheaper(session, fts, limit))
    (first, second), descending = _order(f)
    stmt = select(Job.id).where(search_index.name_condition(Job.__table__, dialect, f.q.strip()))
    if after is not None:
        stmt = stmt.where(_after(first, second, after, descending))
    return stmt.order_by(first.desc(), second.desc()).limit(limit)


def job_conditions(f: JobFilter, policy: sla_rules.SlaPolicy, dialect: str = "sqlite") -> list:
    """`dialect`: the database's (the search index differs: FTS5 or pg_trgm)."""
    cond = []
    q = f.q.strip()
    if q:
        cond.append(_text_condition(q, dialect))
    if f.status:
        cond.append(Job.status == f.status)
    if f.technician == "none":
        cond.append(Job.technician_id.is_(None))
    elif f.technician:
        cond.append(Job.technician_id == int(f.technician))
    if f.needs_review:
        cond.append(Job.needs_review.is_(True))
    column = Job.scheduled_start if f.date_field == "scheduled" else Job.created_at
    if f.date_from:
        cond.append(column >= day_bounds(f.date_from, policy)[0])
    if f.date_to:
        cond.append(column < day_bounds(f.date_to, policy)[1])
    return cond


def encode_cursor(values: list) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        first, second = json.loads(raw)
        return [ensure_aware(datetime.fromisoformat(first)), str(second)]
    except (ValueError, TypeError, RecursionError):  # RecursionError: "[[[[..." forged
        raise DomainError("bad_cursor", {"cursor": cursor}, status=400) from None


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    total: int
    total_capped: bool


def _after(first, second, after: list, descending: bool):
    """Rows after the cursor's (first, second) in list order, written so the first column's
    index bounds the scan (the values bind with the columns' own types)."""
    a, b = after
    if descending:
        return and_(first <= a, or_(first < a, second < b))
    return and_(first >= a, or_(first > a, second > b))


def _order(f: JobFilter):
    if f.by_schedule:  # a schedule range reads best in time order
        return (Job.scheduled_start, Job.id), False
    return (Job.created_at, Job.id), True


def dialect_of(session: Session) -> str:
    return session.get_bind().dialect.name


def job_statement(f: JobFilter, policy: sla_rules.SlaPolicy, dialect: str = "sqlite"):
    (first, second), descending = _order(f)
    stmt = select(Job).where(*job_conditions(f, policy, dialect))
    order = (first.desc(), second.desc()) if descending else (first, second)
    return stmt.order_by(*order)


def _job_page(session: Session, f: JobFilter, policy, cursor: str, limit: int) -> Page:
    (first, second), descending = _order(f)
    dialect = dialect_of(session)
    after = decode_cursor(cursor)
    alone = _index_alone(f, dialect)
    if alone is not None:  # the page's ids from the index, then those jobs
        stmt = select(Job).where(Job.id.in_(_newest_ids(session, f, dialect, alone[0], after,
                                                            limit + 1))
                                 ).order_by(first.desc(), second.desc())
    else:
        stmt = job_statement(f, policy, dialect)
        if after is not None:
            stmt = stmt.where(_after(first, second, after, descending))
    rows = session.execute(stmt.options(selectinload(Job.technician)).limit(limit + 1)
                           ).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([ensure_aware(getattr(rows[-1], first.key)), rows[-1].id]) \
        if more else None
    return Page(rows=rows, next_cursor=next_cursor, total=len(rows), total_capped=False)


def search_jobs(session: Session, f: JobFilter, policy: sla_rules.SlaPolicy,
                cursor: str = "", limit: int = PAGE_SIZE) -> Page:
    """One page of the list, and how many match in all (counted up to COUNT_CAP; a name or
    phone fragment up to SEARCH_COUNT_CAP)."""
    page = _job_page(session, f, policy, cursor, limit)
    dialect = dialect_of(session)
    alone = _index_alone(f, dialect)
    fts = alone and alone[0]
    cap = SEARCH_COUNT_CAP if query_kind(f.q) in ("name", "phone") else COUNT_CAP
    count = search_index.fts_count(fts, cap + 1) if fts else \
        select(func.count()).select_from(select(Job.id).where(
            *job_conditions(f, policy, dialect)).limit(cap + 1).subquery())
    total = session.execute(count).scalar()
    page.total, page.total_capped = min(total, cap), total > cap
    return page


def iter_jobs(session: Session, f: JobFilter, policy: sla_rules.SlaPolicy,
              batch: int = 1000, cap: int = 100_000):
    """Every job the filter lists, in list order, batch by batch (for the CSV export)."""
    cursor, sent = "", 0
    while sent < cap:
        page = _job_page(session, f, policy, cursor, min(batch, cap - sent))
        if page.rows:
            yield page.rows
        sent += len(page.rows)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


@dataclass
class ComplaintFilter:
    q: str = ""
    status: str = ""
    severity: str = ""
    date_from: date | None = None
    date_to: date | None = None
    active_only: bool = False


def complaint_conditions(f: ComplaintFilter, policy) -> list:
    cond = []
    q = f.q.strip()
    kind = query_kind(q)
    if kind == "ref":
        cond.append(Complaint.ref == q.upper())
    elif kind == "phone":
        cond.append(Complaint.customer_id.in_(_customer_ids_for_phone(phone_digits(q))))
    elif kind == "name":
        cond.append(Complaint.complainant_name.like(_like(q), escape="\\"))
    if f.status:
        cond.append(Complaint.status == f.status)
    elif f.active_only:
        cond.append(Complaint.status.in_(tuple(complaint_rules.ACTIVE)))
    if f.severity:
        cond.append(Complaint.severity == f.severity)
    if f.date_from:
        cond.append(Complaint.created_at >= day_bounds(f.date_from, policy)[0])
    if f.date_to:
        cond.append(Complaint.created_at < day_bounds(f.date_to, policy)[1])
    return cond


def search_complaints(session: Session, f: ComplaintFilter, policy, cursor: str = "",
                      limit: int = PAGE_SIZE) -> Page:
    stmt = select(Complaint).where(*complaint_conditions(f, policy))
    after = decode_cursor(cursor)
    if after is not None:
        stmt = stmt.where(_after(Complaint.created_at, Complaint.id, after, True))
    rows = session.execute(stmt.order_by(Complaint.created_at.desc(), Complaint.id.desc())
                           .limit(limit + 1)).scalars().all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([ensure_aware(rows[-1].created_at), rows[-1].id]) \
        if more else None
    total = session.execute(select(func.count()).select_from(
        select(Complaint.id).where(*complaint_conditions(f, policy)).limit(COUNT_CAP + 1)
        .subquery())).scalar()
    return Page(rows=rows, next_cursor=next_cursor, total=min(total, COUNT_CAP),
                total_capped=total > COUNT_CAP)


# --- a returning customer ------------------------------------------------------------------

def customer_history(session: Session, phone: str, limit: int = 10) -> dict | None:
    """The customer with this phone number and their latest jobs and complaints."""
    key = phone_digits(phone)
    if len(key) < 7:
        return None
    customer = session.execute(select(Customer).where(Customer.phone_key == key)
                               .order_by(Customer.created_at).limit(1)).scalar_one_or_none()
    if customer is None:
        return None
    jobs = session.execute(select(Job).where(Job.customer_id == customer.id)
                           .options(selectinload(Job.technician))
                           .order_by(Job.created_at.desc()).limit(limit)).scalars().all()
    job_total = session.execute(select(func.count(Job.id))
                                .where(Job.customer_id == customer.id)).scalar()
    complaints = session.execute(select(Complaint).where(Complaint.customer_id == customer.id)
                                 .order_by(Complaint.created_at.desc()).limit(limit)
                                 ).scalars().all()
    return {"customer": customer, "jobs": jobs, "job_total": job_total,
            "complaints": complaints}


# --- breaches ------------------------------------------------------------------------------

@dataclass
class BreachRow:
    clock: SlaClock
    view: ClockView
    job: Job | None
    complaint: Complaint | None


def _still_open():
    """A clock whose job or complaint is still being worked on. Written as EXISTS so the
    database walks the live clocks by index and looks each owner up by its key (a join
    would read the whole jobs table to match a few hundred clocks)."""
    job_open = select(Job.id).where(Job.id == SlaClock.job_id, Job.status.in_(OPEN_JOB))
    complaint_open = select(Complaint.id).where(
        Complaint.id == SlaClock.complaint_id,
        Complaint.status.in_(tuple(complaint_rules.ACTIVE)))
    return or_(and_(SlaClock.job_id.is_not(None), job_open.exists()),
               and_(SlaClock.complaint_id.is_not(None), complaint_open.exists()))


LIVE = (SlaClock.stopped_at.is_(None), SlaClock.met_at.is_(None))  # ix_sla_live


def breaches(session: Session, now: datetime, policy, desk: DeskSettings,
             limit: int = 200) -> dict:
    """Clocks overdue now on open jobs and complaints (most overdue first), clocks about to
    break (amber), and the last 7 days' history: clocks met late, and clocks missed (stopped
    unmet after their due time, when nobody could act on them any more). Stopped clocks (closed jobs and
    complaints) are left out by the index, so the cost follows the open work, not the
    history."""

    def rows(stmt) -> list[BreachRow]:
        clocks = session.execute(stmt).scalars().all()
        job_ids = {c.job_id for c in clocks if c.job_id}
        complaint_ids = {c.complaint_id for c in clocks if c.complaint_id}
        jobs = {j.id: j for j in session.execute(
            select(Job).where(Job.id.in_(job_ids)).options(selectinload(Job.technician))
        ).scalars()} if job_ids else {}
        complaints = {c.id: c for c in session.execute(
            select(Complaint).where(Complaint.id.in_(complaint_ids))).scalars()} \
            if complaint_ids else {}
        out = []
        for clock in clocks:
            job, complaint = jobs.get(clock.job_id), complaints.get(clock.complaint_id)
            stopped = job is not None and job_is_stopped(job)
            view = clock_views([clock], now, policy, desk, stopped=stopped)[0]
            out.append(BreachRow(clock, view, job, complaint))
        return out

    overdue = rows(select(SlaClock).where(*LIVE, SlaClock.due_at <= now, _still_open())
                   .order_by(SlaClock.due_at, SlaClock.id).limit(limit))
    soon = [r for r in rows(select(SlaClock).where(
        *LIVE, SlaClock.due_at > now, SlaClock.due_at <= now + timedelta(days=5),
        _still_open()).order_by(SlaClock.due_at, SlaClock.id).limit(limit * 5))
        if r.view.level == "warning"][:limit]
    late = rows(select(SlaClock).where(SlaClock.met_at >= now - timedelta(days=7),
                                       SlaClock.met_at > SlaClock.due_at)
                .order_by(SlaClock.met_at.desc(), SlaClock.id).limit(limit))
    # History, not alarms: clocks that stopped unmet after their due time (a first call never
    # recorded before the visit was agreed, a job closed late), by ix_sla_live's first column.
    missed = rows(select(SlaClock).where(SlaClock.stopped_at >= now - timedelta(days=7),
                                         SlaClock.met_at.is_(None),
                                         SlaClock.stopped_at > SlaClock.due_at)
                  .order_by(SlaClock.stopped_at.desc(), SlaClock.id).limit(limit))
    return {"overdue": overdue, "warning": soon, "met_late": late, "missed": missed}


def count_overdue(session: Session, now: datetime, cap: int = 1000) -> int:
    """How many clocks of open jobs and complaints are overdue now (counted up to `cap`)."""
    stmt = select(SlaClock.id).where(*LIVE, SlaClock.due_at <= now, _still_open()).limit(cap)
    return session.execute(select(func.count()).select_from(stmt.subquery())).scalar()


# --- late evidence: the office decides -------------------------------------------------------

def open_conflicts(session: Session, job: Job) -> list[Conflict]:
    return session.execute(select(Conflict).where(Conflict.job_id == job.id,
                                                  Conflict.resolved_at.is_(None))
                           .order_by(Conflict.id)).scalars().all()


def resolve_conflict(ctx: Ctx, actor: Actor, job: Job, conflict_id: int, resolution: str
                     ) -> Conflict:
    """Record the office's decision on late evidence; the job stops needing review once no
    conflict is open."""
    job_service.require_role(actor, DISPATCH_ROLES)
    conflict = ctx.session.get(Conflict, conflict_id)
    if conflict is None or conflict.job_id != job.id:
        raise DomainError("conflict_not_found", {"conflict_id": conflict_id}, status=404)
    if conflict.resolved_at is not None:
        raise DomainError("conflict_already_resolved", {"conflict_id": conflict_id},
                          status=409)
    if not (resolution or "").strip():
        raise DomainError("resolution_required", {"conflict_id": conflict_id})
    conflict.resolved_at = ctx.now()
    conflict.resolved_by_id = actor.id
    conflict.resolution = resolution.strip()
    ctx.session.flush()
    still_open = len(open_conflicts(ctx.session, job))
    job.needs_review = still_open > 0
    job_service.record_event(ctx, actor, job, "conflict_resolved", {
        "conflict_id": conflict.id, "mutation_type": conflict.mutation_type,
        "resolution": conflict.resolution, "open_conflicts": still_open})
    job_service.touch(ctx, job)
    return conflict

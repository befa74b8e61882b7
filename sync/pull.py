"""Pull: what changed for this device's user since its cursor.

The cursor is `<epoch>.<change_seq>`: a change number (fieldapp.jobs.counters; never a clock)
and the database's epoch, a random id made when the database was created. A cursor from
another epoch (the database was restored or replaced) or from the future is treated as empty:
the device gets everything again instead of silently missing changes. A cursor from the future
also starts a new epoch, so every other phone pulls everything again too (see
docs/operations.md, "Backup and restore").

Reads are bounded by the horizon read first (the high-water mark): every change numbered at or
below it has committed (see fieldapp.jobs.counters), so pages neither miss nor repeat rows
under concurrent writes. An up-to-date pull is a few index range scans that find nothing.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.accounts.models import Device, User
from fieldapp.core import states
from fieldapp.db import begin_write
from fieldapp.jobs import counters
from fieldapp.jobs.models import ChecklistTemplate, Job, SyncRemoval
from fieldapp.jobs.views import job_detail, template_dict
from fieldapp.settings.models import Setting

EPOCH_KEY = "sync_epoch"
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True)
class Cursor:
    epoch: str
    seq: int

    def encode(self) -> str:
        return f"{self.epoch}.{self.seq}"


def epoch(session: Session) -> str:
    row = session.get(Setting, EPOCH_KEY)
    if row is None:
        row = Setting(key=EPOCH_KEY, value=secrets.token_hex(8))
        session.add(row)
        session.flush()
    return row.value


def new_epoch(session: Session) -> str:
    """Start a new epoch: every cursor handed out before is foreign from now on, so every
    phone pulls everything again. Run after a restore (`flask --app app restored`), and
    automatically when a cursor proves the database went back in time."""
    row = session.get(Setting, EPOCH_KEY)
    value = secrets.token_hex(8)
    if row is None:
        session.add(Setting(key=EPOCH_KEY, value=value))
    else:
        row.value = value
    session.flush()
    return value


def from_the_future(raw: str | None, current_epoch: str, high_water: int) -> bool:
    """A cursor of this epoch beyond `high_water`: the database was restored from a
    backup older than what this phone already pulled."""
    epoch_part, _, seq_part = (raw or "").partition(".")
    return epoch_part == current_epoch and seq_part.isdigit() and int(seq_part) > high_water


def newest_change(session: Session, user: User) -> int:
    """The newest change number among the rows this user pulls: their jobs, their removals,
    the templates (one statement, three index probes). Every cursor the server hands out is
    the number of such a row (or 0), and a row's number only grows once pulled (a job
    reassigned away leaves a removal with its new number; none of them is ever deleted), so
    in a database that did not go back in time no cursor of its epoch is above this."""
    def newest(column, *where):
        return (select(column).where(*where).order_by(column.desc()).limit(1)
                .scalar_subquery())

    row = session.execute(select(
        newest(Job.change_seq, Job.technician_id == user.id),
        newest(SyncRemoval.change_seq, SyncRemoval.user_id == user.id),
        newest(ChecklistTemplate.change_seq))).one()
    return max(value or 0 for value in row)


def decode(raw: str | None, current_epoch: str, high_water: int) -> int:
    """The seq to pull after; 0 (everything) for an empty, foreign or impossible cursor."""
    if not raw:
        return 0
    epoch_part, _, seq_part = raw.partition(".")
    if epoch_part != current_epoch or not seq_part.isdigit():
        return 0
    seq = int(seq_part)
    return seq if seq <= high_water else 0


def pull(session: Session, user: User, device: Device, raw_cursor: str | None, now,
         limit: int = DEFAULT_LIMIT) -> dict:
    limit = max(1, min(limit, MAX_LIMIT))
    high = counters.current(session)
    current_epoch = epoch(session)
    # On PostgreSQL the horizon follows transaction ids, which a restore into the same server
    # does not take back: the user's newest row tells a cursor from a lost future too.
    if from_the_future(raw_cursor, current_epoch, high) or from_the_future(
            raw_cursor, current_epoch, newest_change(session, user)):
        # Restored without `flask restored`: other phones may hold cursors that now point at
        # numbers the restored database will hand out again for other changes. A new epoch
        # makes every phone pull everything again. Its own write transaction (on SQLite a
        # read transaction could not turn into a write once another connection committed).

        begin_write(session)
        current_epoch = new_epoch(session)
        session.commit()
        high = counters.current(session)
    after = decode(raw_cursor, current_epoch, high)

    # Phase 1: find where this page ends, reading only seq columns.
    job_seqs = session.execute(
        select(Job.change_seq).where(Job.technician_id == user.id, Job.change_seq > after,
                                     Job.change_seq <= high)
        .order_by(Job.change_seq).limit(limit + 1)).scalars().all()
    removal_seqs = session.execute(
        select(SyncRemoval.change_seq).where(SyncRemoval.user_id == user.id,
                                             SyncRemoval.change_seq > after,
                                             SyncRemoval.change_seq <= high)
        .order_by(SyncRemoval.change_seq).limit(limit + 1)).scalars().all()
    template_seqs = session.execute(
        select(ChecklistTemplate.change_seq).where(ChecklistTemplate.change_seq > after,
                                                   ChecklistTemplate.change_seq <= high)
        .order_by(ChecklistTemplate.change_seq).limit(limit + 1)).scalars().all()
    seqs = sorted(job_seqs + removal_seqs + template_seqs)
    has_more = len(seqs) > limit
    # A page ends on a whole seq: rows written by one transaction share it and travel together.
    # The last page ends on the last change it holds (the cursor sent when none): nothing of
    # this user's lies between it and the horizon, and nothing can be numbered there later, so
    # an up-to-date phone keeps its cursor (on PostgreSQL the horizon moves with every
    # transaction of the database).
    until = seqs[limit - 1] if has_more else max([after] + seqs)

    # Phase 2: the rows of this page.
    jobs = session.execute(
        select(Job).where(Job.technician_id == user.id, Job.change_seq > after,
                          Job.change_seq <= until).order_by(Job.change_seq)).scalars().all()
    removals = session.execute(
        select(SyncRemoval).where(SyncRemoval.user_id == user.id, SyncRemoval.change_seq > after,
                                  SyncRemoval.change_seq <= until)).scalars().all()
    templates = session.execute(
        select(ChecklistTemplate).where(ChecklistTemplate.change_seq > after,
                                        ChecklistTemplate.change_seq <= until)
        .order_by(ChecklistTemplate.change_seq)).scalars().all()

    # Latest word per job: a job reassigned away and back within one page is simply there.
    latest: dict[str, tuple[int, Job | None]] = {}
    for removal in removals:
        if removal.change_seq > latest.get(removal.job_id, (-1, None))[0]:
            latest[removal.job_id] = (removal.change_seq, None)
    for job in jobs:
        if job.change_seq >= latest.get(job.id, (-1, None))[0]:
            latest[job.id] = (job.change_seq, job)

    changed, removed = [], []
    for job_id, (_, job) in sorted(latest.items(), key=lambda kv: kv[1][0]):
        if job is None or not states.visible_to_assignee(
                job.status, job.arrived_at is not None or job.work_started_at is not None):
            removed.append(job_id)
        else:
            changed.append(job_detail(session, job, user, now))

    return {
        "cursor": Cursor(current_epoch, until).encode(),
        "has_more": has_more,
        "last_seq": device.last_seq,
        "changes": {"jobs": changed,
                    "checklist_templates": [template_dict(t) for t in templates]},
        "removed": {"jobs": removed},
    }

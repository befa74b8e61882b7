"""The timed work's database side (issue 7): each function finds what the rules in
`fieldapp.core.timed` say is due at `ctx.now()` and acts on it once.

"Once" is a `RuleFiring` row per (rule, subject), inserted with ON CONFLICT DO NOTHING in the
same transaction as the notifications it causes: a second run, or a second process at the
same moment (PostgreSQL makes it wait for the first one's commit), finds the row and does
nothing. Nothing here commits; fieldapp/scheduler commits each task once.
"""
from __future__ import annotations

import logging
import re
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, delete, select
from sqlalchemy.exc import IntegrityError

from fieldapp.accounts.context import Ctx
from fieldapp.accounts.models import Device, User
from fieldapp.blobs.models import Blob, BlobUpload
from fieldapp.complaints.models import Complaint
from fieldapp.core import timed as rules
from fieldapp.core.clock import ensure_aware
from fieldapp.core.roles import TECHNICIAN
from fieldapp.db import insert_once
from fieldapp.jobs.models import Job, SlaClock
from fieldapp.notifications import service as notifications
from fieldapp.orm import Base
from fieldapp.parts import service as parts
from fieldapp.parts.models import Takeback
from fieldapp.scheduler.models import RuleFiring

log = logging.getLogger("fieldapp.timed")


def fire_once(ctx: Ctx, rule: str, key: str) -> bool:
    """Record that `rule` fired for `key`; False if it already had (here or elsewhere)."""
    return insert_once(
        ctx.session, RuleFiring, dict(rule=rule, key=key[:200], fired_at=ctx.now()),
        ("rule", "key"), RuleFiring.id) is not None


def _local(ctx: Ctx, at) -> str:
    return ensure_aware(at).astimezone(ctx.policy.tz).strftime("%Y-%m-%d %H:%M")


# --- SLA breaches ----------------------------------------------------------------------------

class _Lines:
    """Lazy texts shown one a line, each rendered in the reader's language."""

    def __init__(self, parts: list):
        self.parts = parts

    def __str__(self) -> str:
        return "\n".join(str(part) for part in self.parts)


def escalate_breaches(ctx: Ctx) -> int:
    """First contact missed -> dispatchers; a major complaint not escalated in time ->
    supervisors; resolution overdue -> dispatchers and supervisors. Once per clock, and
    grouped: the clocks of one kind that broke since the last run make one notice (one job:
    about that job; several: one notice listing them), not one per job. Only running clocks
    count: one nobody can act on any more was stopped by its service (core/sla.py).
    Answers how many clocks were announced."""
    now = ctx.now()
    clocks = ctx.session.execute(select(SlaClock).where(
        SlaClock.met_at.is_(None), SlaClock.stopped_at.is_(None), SlaClock.due_at < now,
        SlaClock.name.in_(tuple(rules.BREACH_RULES))).order_by(SlaClock.due_at, SlaClock.id)
    ).scalars().all()
    fresh: dict[str, list[SlaClock]] = {}
    for clock in clocks:
        if not rules.breached(clock.due_at, clock.met_at, clock.stopped_at, now):
            continue
        rule, _roles = rules.breach_rule(clock.name)
        if fire_once(ctx, rule, rules.breach_key(clock.id)):
            fresh.setdefault(rule, []).append(clock)
    for rule, group in fresh.items():
        roles = rules.breach_rule(group[0].name)[1]
        if len(group) == 1:
            _tell_one(ctx, rule, roles, group[0])
        else:
            _tell_group(ctx, rule, roles, group)
    return sum(len(group) for group in fresh.values())


def _tell_one(ctx: Ctx, rule: str, roles, clock: SlaClock) -> None:
    key = f"{rule}:{rules.breach_key(clock.id)}"
    due = _local(ctx, clock.due_at)
    if clock.job_id is not None:
        job = ctx.session.get(Job, clock.job_id)
        if clock.name == "first_contact":
            subject = _l("First contact missed: %(ref)s", ref=job.ref)
            body = _l("Customer %(name)s (%(phone)s) should have been called by "
                      "%(due)s.", name=job.contact_name, phone=job.contact_phone, due=due)
        else:
            subject = _l("Resolution overdue: %(ref)s", ref=job.ref)
            body = _l("Job %(ref)s for %(name)s should have been resolved by %(due)s.",
                      ref=job.ref, name=job.contact_name, due=due)
        notifications.notify(ctx, rule, roles, subject=subject, body=body, job_id=job.id,
                             key=key)
        return
    complaint = ctx.session.get(Complaint, clock.complaint_id)
    subject = _l("Major complaint not escalated: %(ref)s", ref=complaint.ref)
    body = _l("Major complaint %(ref)s from %(name)s should have reached a "
              "supervisor by %(due)s.", ref=complaint.ref,
              name=complaint.complainant_name, due=due)
    notifications.notify(ctx, rule, roles, subject=subject, body=body,
                         complaint_id=complaint.id, job_id=complaint.job_id, key=key)


def _tell_group(ctx: Ctx, rule: str, roles, group: list[SlaClock]) -> None:
    """One notice for several clocks of one kind, a line each (most overdue first). Its key
    is the first clock's: each clock is announced once, so no other notice can share it."""
    key = f"{rule}:{rules.breach_key(group[0].id)}+{len(group) - 1}"
    lines = []
    if group[0].job_id is not None:
        jobs = {j.id: j for j in ctx.session.execute(
            select(Job).where(Job.id.in_([c.job_id for c in group]))).scalars()}
        for clock in group:
            job = jobs[clock.job_id]
            lines.append(_l("%(ref)s · %(name)s (%(phone)s) · due %(due)s", ref=job.ref,
                            name=job.contact_name, phone=job.contact_phone,
                            due=_local(ctx, clock.due_at)))
        subject = (_l("First contact missed on %(n)s jobs", n=len(group))
                   if group[0].name == "first_contact" else
                   _l("Resolution overdue on %(n)s jobs", n=len(group)))
    else:
        complaints = {c.id: c for c in ctx.session.execute(
            select(Complaint).where(Complaint.id.in_([c.complaint_id for c in group])))
            .scalars()}
        for clock in group:
            complaint = complaints[clock.complaint_id]
            lines.append(_l("%(ref)s · %(name)s (%(phone)s) · due %(due)s",
                            ref=complaint.ref, name=complaint.complainant_name,
                            phone=complaint.complainant_phone,
                            due=_local(ctx, clock.due_at)))
        subject = _l("%(n)s major complaints not escalated", n=len(group))
    notifications.notify(ctx, rule, roles, subject=subject, body=_Lines(lines), key=key)


# --- reminders of tomorrow's jobs ------------------------------------------------------------

def remind_tomorrow(ctx: Ctx, settings: rules.TimedSettings) -> int:
    """Tell each technician of tomorrow's jobs (their local day), once per job and time."""
    now = ctx.now()
    window = rules.tomorrow_window(now, ctx.policy.tz, settings.reminder_hour)
    if window is None:
        return 0
    jobs = ctx.session.execute(select(Job).where(
        Job.status.in_(tuple(rules.REMIND_STATUSES)), Job.technician_id.is_not(None),
        Job.scheduled_start >= window[0], Job.scheduled_start < window[1])
        .order_by(Job.scheduled_start, Job.id)).scalars().all()
    fired = 0
    for job in jobs:
        if not rules.reminder_due(job.scheduled_start, job.status, job.technician_id, now,
                                  ctx.policy.tz, settings.reminder_hour):
            continue
        key = rules.reminder_key(job.id, job.technician_id, job.scheduled_start)
        if not fire_once(ctx, "job_reminder", key):
            continue
        notifications.notify(
            ctx, "job_reminder", [job.technician_id],
            subject=_l("Tomorrow %(time)s: %(ref)s", ref=job.ref,
                       time=_local(ctx, job.scheduled_start)[11:]),
            body=_l("%(ref)s at %(address)s (%(name)s, %(phone)s), %(time)s.", ref=job.ref,
                    address=job.address, name=job.contact_name, phone=job.contact_phone,
                    time=_local(ctx, job.scheduled_start)),
            job_id=job.id, key=f"job_reminder:{key}")
        fired += 1
    return fired


# --- devices that stopped syncing ------------------------------------------------------------

def flag_stale_devices(ctx: Ctx, settings: rules.TimedSettings) -> int:
    """A technician's device silent for `stale_after` while they hold field work: the
    dispatchers are told once per device per silent period."""
    now = ctx.now()
    holders = set(ctx.session.execute(select(Job.technician_id).where(
        Job.status.in_(tuple(rules.FIELD_STATUSES)), Job.technician_id.is_not(None))
        .distinct()).scalars())
    if not holders:
        return 0
    devices = ctx.session.execute(select(Device).join(User, User.id == Device.user_id).where(
        Device.user_id.in_(holders), Device.revoked_at.is_(None), User.role == TECHNICIAN,
        User.active.is_(True)).order_by(Device.id)).scalars().all()
    fired = 0
    for device in devices:
        synced = rules.last_sync(device.created_at, device.last_push_at, device.last_pull_at,
                                 device.last_seen_at)
        if not rules.device_stale(synced, now, settings.stale_after, True):
            continue
        key = rules.stale_key(device.id, synced)
        if not fire_once(ctx, "device_stale", key):
            continue
        user = device.user
        notifications.notify(
            ctx, "device_stale", ["dispatcher"],
            subject=_l("No sync from %(name)s's phone since %(at)s", name=user.display_name,
                       at=_local(ctx, synced)),
            body=_l("The device \"%(device)s\" of %(name)s has not synced since %(at)s while "
                    "they hold jobs in the field; their latest work may not have reached "
                    "the office.", device=device.name, name=user.display_name,
                    at=_local(ctx, synced)),
            key=f"device_stale:{key}")
        fired += 1
    return fired


# --- products out for repair too long -------------------------------------------------------

def flag_overdue_takebacks(ctx: Ctx) -> int:
    """A product taken away for repair and not back after the register's overdue days (a
    desk setting, 7 by default): dispatchers and supervisors are told once per receipt."""
    now = ctx.now()
    days = parts.overdue_days(ctx.session)
    rows = ctx.session.execute(select(Takeback).where(
        Takeback.status == "out", Takeback.taken_at < now - timedelta(days=days))
        .order_by(Takeback.taken_at, Takeback.id)).scalars().all()
    fired = 0
    for takeback in rows:
        if not parts.is_overdue(takeback, now, days):
            continue
        if not fire_once(ctx, "takeback_overdue", takeback.id):
            continue
        job = takeback.job
        notifications.notify(
            ctx, "takeback_overdue", ["dispatcher", "supervisor"],
            subject=_l("Out for repair over %(days)s days: %(receipt)s (%(ref)s)", days=days,
                       receipt=takeback.receipt_no or takeback.id[:8], ref=job.ref),
            body=_l("The %(product)s of %(name)s (%(phone)s) was taken away on %(at)s and "
                    "has not been brought back.", product=job.product_model,
                    name=job.contact_name, phone=job.contact_phone,
                    at=_local(ctx, takeback.taken_at)),
            job_id=takeback.followup_job_id or job.id, key=f"takeback_overdue:{takeback.id}")
        fired += 1
    return fired


# --- blob retention --------------------------------------------------------------------------

SHA_RE = re.compile(r"\b[0-9a-f]{64}\b")


def _reference_columns():
    """Every column that can name a blob: foreign keys to blobs.sha256 and JSON columns named
    like `*sha256*` (lists of digests), in every table of the model, so a table added later
    is covered as soon as it follows the naming."""
    plain, lists = [], []
    for table in Base.metadata.sorted_tables:
        if table.name in ("blobs", "blob_uploads"):  # who uploaded it is no use of it
            continue
        for column in table.columns:
            if any(fk.column.table.name == "blobs" for fk in column.foreign_keys):
                plain.append(column)
            elif "sha256" in column.name and isinstance(column.type, JSON):
                lists.append(column)
            elif "sha256" in column.name and column.name not in ("token_hash",):
                plain.append(column)
    return plain, lists


def referenced_blobs(session) -> set[str]:
    plain, lists = _reference_columns()
    found: set[str] = set()
    for column in plain:
        found.update(v for v in session.execute(select(column).where(column.is_not(None))
                                                .distinct()).scalars() if v)
    for column in lists:
        for value in session.execute(select(column).where(column.is_not(None))).scalars():
            found.update(SHA_RE.findall(str(value)))
    return found


def remove_old_blobs(ctx: Ctx, settings: rules.TimedSettings, store=None) -> list[str]:
    """Delete blobs nothing references once they are older than the retention period: the
    row now, the file after the caller's commit (`store.delete` for each sha returned)."""
    now = ctx.now()
    cutoff = now - settings.blob_retention
    candidates = ctx.session.execute(select(Blob.sha256, Blob.created_at).where(
        Blob.created_at <= cutoff)).all()
    if not candidates:
        return []
    referenced = referenced_blobs(ctx.session)
    removed = []
    for sha in rules.blobs_to_remove(candidates, referenced, now, settings.blob_retention):
        try:
            with ctx.session.begin_nested():
                # Who uploaded it goes with it (kept if the blob turns out to be referenced).
                ctx.session.execute(delete(BlobUpload).where(
                    BlobUpload.sha256 == sha, select(Blob.sha256).where(
                        Blob.sha256 == sha, Blob.created_at <= cutoff).exists()))
                gone = ctx.session.execute(delete(Blob).where(
                    Blob.sha256 == sha, Blob.created_at <= cutoff)).rowcount
        except IntegrityError:  # referenced meanwhile (a foreign key says so): keep it
            continue
        if gone:
            removed.append(sha)
    return removed


def settings_from_config(config) -> rules.TimedSettings:
    return rules.TimedSettings(
        reminder_hour=int(config.get("REMINDER_HOUR", 17)),
        stale_after=timedelta(hours=float(config.get("STALE_DEVICE_HOURS", 24))),
        blob_retention=timedelta(days=float(config.get("BLOB_RETENTION_DAYS", 30))))

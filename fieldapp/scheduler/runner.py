"""Running the timed work: a lease per task in the database, `run_once` (everything due,
once), and the in-process and stand-alone APScheduler loops around it. The package's
docstring (`fieldapp/scheduler/__init__.py`) says how the three ways fit together and why a
task never runs twice at once."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import or_, update

from fieldapp.accounts.context import Ctx
from fieldapp.core.clock import Clock, FixedClock, ensure_aware
from fieldapp.db import begin_write, insert_once
from fieldapp.extensions import db
from fieldapp.notifications.service import holder_name
from fieldapp.scheduler.models import SchedulerLease
from fieldapp.settings import service as settings_service

from . import tasks  # noqa: F401  (importing them registers the tasks)
from .registry import TASKS, Task, task  # noqa: F401

log = logging.getLogger("fieldapp.scheduler")

LEASE_TTL = timedelta(minutes=5)


# --- the lease -------------------------------------------------------------------------------

def acquire(session, name: str, holder: str, ttl: timedelta = LEASE_TTL,
            wall: Clock | None = None) -> bool:
    """Take the task's lease if it is free, expired or already ours. Commits."""
    now = (wall or Clock()).now()
    begin_write(session)
    taken = session.execute(update(SchedulerLease).where(
        SchedulerLease.name == name,
        or_(SchedulerLease.holder.is_(None), SchedulerLease.expires_at.is_(None),
            SchedulerLease.expires_at <= now, SchedulerLease.holder == holder)).values(
        holder=holder, expires_at=now + ttl)).rowcount == 1
    if not taken:
        taken = insert_once(session, SchedulerLease, dict(
            name=name, holder=holder, expires_at=now + ttl), ("name",),
            SchedulerLease.name) is not None
    session.commit()
    return taken


def release(session, name: str, holder: str, result: str, ran_at: datetime) -> None:
    session.rollback()
    begin_write(session)
    session.execute(update(SchedulerLease).where(
        SchedulerLease.name == name, SchedulerLease.holder == holder).values(
        holder=None, expires_at=None, last_run_at=ran_at, last_result=result[:2000]))
    session.commit()


# --- running ---------------------------------------------------------------------------------

def run_once(app, now: datetime | None = None, only: list[str] | None = None,
             holder: str | None = None) -> dict[str, object]:
    """Run every registered task (or `only` these) once at `now` (default: the app's clock).
    Each task runs under its lease, in its own transaction, committed at its end; a task
    whose lease another process holds is skipped (`"skipped: leased"`). Answers
    {task name: summary}."""

    holder = holder or holder_name()
    with app.app_context():
        settings_service.refresh(app, force=True)
        clock = FixedClock(ensure_aware(now)) if now is not None \
            else app.extensions["fieldapp.clock"]
        results: dict[str, object] = {}
        session = db.session
        for name, entry in TASKS.items():
            if only and name not in only:
                continue
            if not acquire(session, name, holder):
                results[name] = "skipped: leased"
                continue
            at = clock.now()
            try:
                begin_write(session)
                ctx = Ctx(session=session, clock=clock,
                          policy=app.extensions["fieldapp.policy"])
                results[name] = entry.run(app, ctx)
                session.commit()
            except Exception as error:  # noqa: BLE001 - one task's failure stops no other
                session.rollback()
                log.exception("scheduled task %s failed", name)
                results[name] = f"error: {type(error).__name__}: {error}"
            finally:
                release(session, name, holder, str(results.get(name)), at)
        session.remove()
        return results


def interval(app) -> int:
    return int(app.config.get("SCHEDULER_INTERVAL", 60))


def start(app):
    """Start the in-process BackgroundScheduler (one per process; the leases keep several
    processes from running a task twice). Answers the scheduler (shut it down to stop)."""
    if app.extensions.get("fieldapp.scheduler") is not None:
        return app.extensions["fieldapp.scheduler"]
    scheduler = BackgroundScheduler(daemon=True, timezone="UTC")
    scheduler.add_job(run_once, "interval", seconds=interval(app), args=[app],
                      id="fieldapp-run-once", max_instances=1, coalesce=True,
                      misfire_grace_time=interval(app))
    scheduler.start()
    app.extensions["fieldapp.scheduler"] = scheduler
    log.info("in-process scheduler started (every %ss)", interval(app))
    return scheduler


def run_forever(app, stop=None) -> None:
    """`flask scheduler run`: run_once every SCHEDULER_INTERVAL seconds until stopped."""
    scheduler = BlockingScheduler(timezone="UTC")
    scheduler.add_job(run_once, "interval", seconds=interval(app), args=[app],
                      id="fieldapp-run-once", max_instances=1, coalesce=True,
                      next_run_time=Clock().now())
    scheduler.start()

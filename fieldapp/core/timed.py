"""The timed rules (issue 7): what is due for which action at `now`. Plain Python, plain data;
the scheduler (fieldapp/scheduler) asks these, and the database's unique keys make sure each
rule fires once for each subject.

- SLA breaches: a clock not met and not stopped is breached once `now` is past its due time
  (the same test as `sla.clock_state`, so the desk turns red at the moment the notice goes).
  first contact -> dispatchers; complaint escalation (major, not escalated in time) ->
  supervisors; resolution -> dispatchers and supervisors.
- Tomorrow's jobs: from `reminder_hour` (local) on the day before, once per job and
  scheduled time (a rescheduled job is a new subject).
- Stale devices: no sync for `stale_after` while the user holds work in the field; once per
  device per stale period (a sync starts a new period).
- Blob retention: unreferenced and older than the retention period (a blob uploaded for a
  mutation that has not reached the server yet is unreferenced for a while).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .clock import ensure_aware
from .roles import DISPATCHER, SUPERVISOR
from .sla import BREACHED, ESCALATION, FIRST_CONTACT, RESOLUTION, clock_state
from .states import EN_ROUTE, IN_PROGRESS, ON_SITE, PAUSED, SCHEDULED

# clock name -> (rule name, who is told)
BREACH_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    FIRST_CONTACT: ("sla_first_contact", (DISPATCHER,)),
    ESCALATION: ("complaint_not_escalated", (SUPERVISOR,)),
    RESOLUTION: ("sla_resolution", (DISPATCHER, SUPERVISOR)),
}
FIELD_STATUSES = frozenset({EN_ROUTE, ON_SITE, IN_PROGRESS, PAUSED})
REMIND_STATUSES = frozenset({SCHEDULED})


@dataclass(frozen=True)
class TimedSettings:
    reminder_hour: int = 17          # local hour on the day before a job
    stale_after: timedelta = timedelta(hours=24)
    blob_retention: timedelta = timedelta(days=30)


def breached(due_at: datetime, met_at: datetime | None, stopped_at: datetime | None,
             now: datetime) -> bool:
    """Running (not met, not stopped) and past its due time."""
    if met_at is not None or stopped_at is not None:
        return False
    return clock_state(due_at, None, now) == BREACHED


def breach_rule(clock_name: str) -> tuple[str, tuple[str, ...]] | None:
    return BREACH_RULES.get(clock_name)


def breach_key(clock_id: int) -> str:
    return f"clock:{clock_id}"


# --- reminders of tomorrow's jobs ------------------------------------------------------------

def local_day(at: datetime, tz: ZoneInfo) -> date:
    return ensure_aware(at).astimezone(tz).date()


def tomorrow_window(now: datetime, tz: ZoneInfo, reminder_hour: int
                    ) -> tuple[datetime, datetime] | None:
    """The UTC span of tomorrow (local), once today's reminder hour has come; else None."""
    local_now = ensure_aware(now).astimezone(tz)
    if local_now.time() < time(reminder_hour, 0):
        return None
    tomorrow = local_now.date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0, 0), tz)
    end = datetime.combine(tomorrow + timedelta(days=1), time(0, 0), tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def reminder_due(scheduled_start: datetime | None, status: str, technician_id: int | None,
                 now: datetime, tz: ZoneInfo, reminder_hour: int) -> bool:
    if scheduled_start is None or technician_id is None or status not in REMIND_STATUSES:
        return False
    window = tomorrow_window(now, tz, reminder_hour)
    if window is None:
        return False
    return window[0] <= ensure_aware(scheduled_start) < window[1]


def reminder_key(job_id: str, technician_id: int, scheduled_start: datetime) -> str:
    return f"{job_id}:{technician_id}:{ensure_aware(scheduled_start).isoformat()}"


# --- devices that stopped syncing ------------------------------------------------------------

def last_sync(created_at: datetime, *seen: datetime | None) -> datetime:
    """The device's latest sign of life (push, pull, any request), else its registration."""
    stamps = [ensure_aware(s) for s in seen if s is not None]
    return max(stamps) if stamps else ensure_aware(created_at)


def device_stale(last_synced: datetime, now: datetime, stale_after: timedelta,
                 holds_field_work: bool, revoked: bool = False) -> bool:
    if revoked or not holds_field_work:
        return False
    return ensure_aware(now) - ensure_aware(last_synced) >= stale_after


def stale_key(device_id: str, last_synced: datetime) -> str:
    return f"{device_id}:{ensure_aware(last_synced).isoformat()}"


# --- blob retention --------------------------------------------------------------------------

def blobs_to_remove(blobs, referenced: set[str], now: datetime, retention: timedelta
                    ) -> list[str]:
    """`blobs`: (sha256, created_at) pairs. Those nothing references and older than the
    retention period; never a referenced one."""
    cutoff = ensure_aware(now) - retention
    return [sha for sha, created_at in blobs
            if sha not in referenced and ensure_aware(created_at) <= cutoff]

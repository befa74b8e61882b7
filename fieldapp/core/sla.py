"""SLA clocks: when each promise falls due, and whether it was kept.

From seed-rules section 3: phone the customer within 5 minutes of intake (#13), respond with a
technician dispatched within 24 hours (#22-24), resolve repairs within 3 working days (#25)
and delivery problems within 48 hours (#27). Each limit is data in an SlaPolicy so the office
can change it; working days and hours come from the same policy. All times are UTC-aware;
the policy's timezone decides where a working day starts and ends.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import job_types
from . import states as job_states
from .clock import ensure_aware

RUNNING, MET, BREACHED = "running", "met", "breached"
FIRST_CONTACT, RESPONSE, RESOLUTION = "first_contact", "response", "resolution"
JOB_CLOCKS = (FIRST_CONTACT, RESPONSE, RESOLUTION)
ESCALATION, COORDINATION = "escalation", "coordination"

# A limit: an amount and the basis it is counted on.
#   "minutes"/"hours" on the "calendar" basis: wall-clock time;
#   "working_minutes": only minutes inside working hours on working days count;
#   "working_days": the same local time on the n-th working day after the start.
@dataclass(frozen=True)
class Limit:
    amount: int
    unit: str  # "minutes" | "hours" | "working_minutes" | "working_days"

    def as_dict(self) -> dict:
        return {"amount": self.amount, "unit": self.unit}


UNITS = ("minutes", "hours", "working_minutes", "working_days")


@dataclass(frozen=True)
class SlaPolicy:
    timezone: str = "Asia/Shanghai"
    working_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # Monday = 0
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    holidays: tuple[date, ...] = ()
    first_contact: Limit = Limit(5, "working_minutes")
    response: Limit = Limit(24, "hours")
    # Each job type's default (core/job_types.py).
    resolution: dict = field(default_factory=lambda: {
        t.key: Limit(*t.resolution) for t in job_types.TYPES})
    complaint_escalation: Limit = Limit(1, "hours")
    complaint_coordination: Limit = Limit(24, "hours")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.working_weekdays and day not in self.holidays


def due_at(start: datetime, limit: Limit, policy: SlaPolicy) -> datetime:
    start = ensure_aware(start)
    if limit.unit == "minutes":
        return start + timedelta(minutes=limit.amount)
    if limit.unit == "hours":
        return start + timedelta(hours=limit.amount)
    if limit.unit == "working_minutes":
        return _add_working_minutes(start, limit.amount, policy)
    if limit.unit == "working_days":
        return _add_working_days(start, limit.amount, policy)
    raise ValueError(f"unknown SLA unit {limit.unit!r}")


def _add_working_minutes(start: datetime, minutes: int, policy: SlaPolicy) -> datetime:
    """Count only minutes inside working hours on working days (a call at 23:00 on Friday
    is due 5 minutes after Monday opens)."""
    tz = policy.tz
    local = start.astimezone(tz)
    remaining = timedelta(minutes=minutes)
    for _ in range(3660):  # ten years of days: a policy with no working day would spin
        day = local.date()
        opens = datetime.combine(day, policy.day_start, tz)
        closes = datetime.combine(day, policy.day_end, tz)
        if policy.is_working_day(day) and local < closes:
            begin = max(local, opens)
            available = closes - begin
            if remaining <= available:
                return (begin + remaining).astimezone(start.tzinfo)
            remaining -= available
        local = datetime.combine(day + timedelta(days=1), time(0, 0), tz)
    raise ValueError("SLA policy has no working time")


def _add_working_days(start: datetime, days: int, policy: SlaPolicy) -> datetime:
    tz = policy.tz
    local = start.astimezone(tz)
    day = local.date()
    counted = 0
    for _ in range(3660):
        if counted == days:
            break
        day += timedelta(days=1)
        if policy.is_working_day(day):
            counted += 1
    else:
        raise ValueError("SLA policy has no working days")
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tz).astimezone(start.tzinfo)


def clock_state(due: datetime, met: datetime | None, now: datetime) -> str:
    """`met` when met in time, `breached` when met late or overdue, else `running`."""
    due = ensure_aware(due)
    if met is not None:
        return MET if ensure_aware(met) <= due else BREACHED
    return BREACHED if ensure_aware(now) > due else RUNNING


# --- alarms: a clock someone can still act on ------------------------------------------------
#
# An unmet clock is an alarm (amber before its limit, red after) only while someone can still
# do what it asks. Once nobody can, it stops, and whatever it was at that moment (missed or
# not) is history: the breaches page's record and the KPIs, never a red pill on the board.

# A job that is done with (the technician finished, or it was signed off or cancelled).
JOB_DONE = frozenset({job_states.COMPLETED, job_states.APPROVED, job_states.CANCELLED})


def job_clock_actionable(name: str, status: str, has_appointment: bool) -> bool:
    """Can someone still act on this clock of a job in `status`?

    - every clock: not once the job is done (completed, approved, cancelled);
    - first contact: only while the job is new and has no appointment: a visit agreed with
      the customer (a time set, a technician booked) means they were reached, recorded or
      not, and calling them now would change nothing;
    - response and resolution: while the job is open (a rework or a failed visit included).
    """
    if status in JOB_DONE:
        return False
    if name == FIRST_CONTACT:
        return status == job_states.NEW and not has_appointment
    return True


def job_clocks_to_stop(status: str, has_appointment: bool) -> tuple[str, ...]:
    """The job clocks that stop running (if not met yet) when a job reaches this state."""
    return tuple(n for n in JOB_CLOCKS if not job_clock_actionable(n, status, has_appointment))


def job_clock_limits(job_type: str, policy: SlaPolicy) -> dict[str, Limit]:
    return {
        FIRST_CONTACT: policy.first_contact,
        RESPONSE: policy.response,
        RESOLUTION: policy.resolution.get(job_type, policy.resolution["repair"]),
    }


def complaint_clock_limits(severity: str, policy: SlaPolicy) -> dict[str, Limit]:
    limits = {COORDINATION: policy.complaint_coordination}
    if severity == "major":
        limits = {ESCALATION: policy.complaint_escalation, **limits}
    return limits


# --- how much time is left (the desk's amber and red) ------------------------------------

WORKING_UNITS = ("working_minutes", "working_days")
OK, WARNING = "ok", "warning"  # levels of a running clock; a met clock is MET, late BREACHED
# Levels of an unmet clock that stopped running (history, never an alarm): STOPPED before its
# due time, MISSED after it.
STOPPED, MISSED = "stopped", "missed"
MET_LATE = "met_late"  # met, but after its due time: history too
ALARM_LEVELS = frozenset({WARNING, BREACHED})


def limit_from_dict(value: dict) -> Limit:
    """A Limit from its stored `{"amount", "unit"}`; refuses what due_at could not count."""
    amount, unit = value.get("amount"), value.get("unit")
    if unit not in UNITS:
        raise ValueError(f"unknown SLA unit {unit!r}")
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= 100_000:
        raise ValueError(f"SLA amount must be a whole number from 1, not {amount!r}")
    return Limit(amount, unit)


def working_seconds_between(start: datetime, end: datetime, policy: SlaPolicy) -> float:
    """Seconds inside working hours on working days between two instants (0 if end <= start)."""
    start, end = ensure_aware(start), ensure_aware(end)
    if end <= start:
        return 0.0
    tz = policy.tz
    local, last = start.astimezone(tz), end.astimezone(tz)
    total = 0.0
    for _ in range(3660):
        day = local.date()
        if day > last.date():
            break
        if policy.is_working_day(day):
            opens = max(local, datetime.combine(day, policy.day_start, tz))
            closes = min(last, datetime.combine(day, policy.day_end, tz))
            if closes > opens:
                total += (closes - opens).total_seconds()
        local = datetime.combine(day + timedelta(days=1), time(0, 0), tz)
    return total


def fraction_left(started: datetime, due: datetime, now: datetime, unit: str | None,
                  policy: SlaPolicy) -> float:
    """How much of the limit is still left at `now`, from 1.0 (just started) to 0.0 (due),
    counted on the limit's own basis: a 5-working-minute clock started on Friday night still
    has all of its time on Sunday."""
    if unit in WORKING_UNITS:
        whole = working_seconds_between(started, due, policy)
        left = working_seconds_between(now, due, policy)
        if whole <= 0:  # due outside working time (e.g. a policy changed since): wall time
            whole = (ensure_aware(due) - ensure_aware(started)).total_seconds()
            left = (ensure_aware(due) - ensure_aware(now)).total_seconds()
    else:
        whole = (ensure_aware(due) - ensure_aware(started)).total_seconds()
        left = (ensure_aware(due) - ensure_aware(now)).total_seconds()
    if whole <= 0:
        return 0.0
    return max(0.0, min(1.0, left / whole))


def clock_level(started: datetime, due: datetime, met: datetime | None, now: datetime,
                unit: str | None, policy: SlaPolicy, warn_fraction: float = 0.25,
                stopped: datetime | None = None) -> str:
    """For a running clock `ok`, `warning` (less than `warn_fraction` of the limit left, the
    desk's setting: the last 25 % by default) or `breached` (past due); `met` or `met_late`
    for a met one. An unmet clock
    that `stopped` is history: `missed` if it stopped after its due time, else `stopped`.
    Only `warning` and `breached` are alarms (ALARM_LEVELS)."""
    if met is None and stopped is not None:
        return MISSED if ensure_aware(stopped) > ensure_aware(due) else STOPPED
    state = clock_state(due, met, now)
    if met is not None:
        return MET if state == MET else MET_LATE
    if state != RUNNING:
        return state
    return WARNING if fraction_left(started, due, now, unit, policy) < warn_fraction else OK

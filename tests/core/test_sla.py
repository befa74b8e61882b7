"""SLA clocks: due times on every basis, in Shanghai working time, and met/breached/running."""
import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from fieldapp.core.sla import (
    Limit,
    SlaPolicy,
    clock_state,
    complaint_clock_limits,
    due_at,
    job_clock_limits,
)

SH = ZoneInfo("Asia/Shanghai")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
POLICY = SlaPolicy()
FIVE = Limit(5, "working_minutes")


def sh(y, m, d, hh, mm=0):
    """A Shanghai wall-clock time as an aware UTC datetime (what the app stores)."""
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(timezone.utc)


def local(value):
    return value.astimezone(SH).replace(tzinfo=None)


def test_calendar_dates_used_below():
    assert date(2026, 11, 24).strftime("%A") == "Tuesday"
    assert date(2026, 11, 27).strftime("%A") == "Friday"
    assert date(2026, 11, 30).strftime("%A") == "Monday"


# --- minutes / hours: wall clock -----------------------------------------------------------

def test_minutes_and_hours_are_calendar_time():
    start = sh(2026, 11, 27, 23, 0)  # Friday night
    assert due_at(start, Limit(5, "minutes"), POLICY) == start + timedelta(minutes=5)
    assert due_at(start, Limit(48, "hours"), POLICY) == start + timedelta(hours=48)
    assert local(due_at(start, Limit(48, "hours"), POLICY)) == datetime(2026, 11, 29, 23, 0)


def test_answers_are_utc_aware():
    due = due_at(sh(2026, 11, 24, 9, 0), FIVE, POLICY)
    assert due.utcoffset() == timedelta(0)
    assert due == datetime(2026, 11, 24, 1, 5, tzinfo=timezone.utc)


def test_naive_start_is_taken_as_utc():
    naive = datetime(2026, 11, 24, 1, 0)  # 09:00 Shanghai
    assert local(due_at(naive, FIVE, POLICY)) == datetime(2026, 11, 24, 9, 5)


# --- working minutes -----------------------------------------------------------------------

def test_friday_23h_intake_due_monday_0905():
    assert local(due_at(sh(2026, 11, 27, 23, 0), FIVE, POLICY)) == datetime(2026, 11, 30, 9, 5)


def test_saturday_and_sunday_intake_due_monday_0905():
    assert local(due_at(sh(2026, 11, 28, 12, 0), FIVE, POLICY)) == datetime(2026, 11, 30, 9, 5)
    assert local(due_at(sh(2026, 11, 29, 8, 0), FIVE, POLICY)) == datetime(2026, 11, 30, 9, 5)


def test_inside_hours_plus_five_minutes():
    assert local(due_at(sh(2026, 11, 24, 9, 0), FIVE, POLICY)) == datetime(2026, 11, 24, 9, 5)
    assert local(due_at(sh(2026, 11, 24, 14, 37), FIVE, POLICY)) == \
        datetime(2026, 11, 24, 14, 42)
    assert local(due_at(sh(2026, 11, 24, 17, 55), FIVE, POLICY)) == \
        datetime(2026, 11, 24, 18, 0)


def test_before_opening_due_five_minutes_after_opening():
    assert local(due_at(sh(2026, 11, 24, 7, 30), FIVE, POLICY)) == datetime(2026, 11, 24, 9, 5)


def test_crossing_the_18h_close():
    # 17:58 + 5 working minutes: 2 today, 3 when the office opens next morning.
    assert local(due_at(sh(2026, 11, 24, 17, 58), FIVE, POLICY)) == \
        datetime(2026, 11, 25, 9, 3)
    # Friday 17:58 crosses the weekend too.
    assert local(due_at(sh(2026, 11, 27, 17, 58), FIVE, POLICY)) == \
        datetime(2026, 11, 30, 9, 3)


def test_at_or_after_close_due_next_morning():
    assert local(due_at(sh(2026, 11, 24, 18, 0), FIVE, POLICY)) == datetime(2026, 11, 25, 9, 5)
    assert local(due_at(sh(2026, 11, 24, 20, 0), FIVE, POLICY)) == datetime(2026, 11, 25, 9, 5)


def test_working_minutes_skip_holidays():
    policy = SlaPolicy(holidays=(date(2026, 11, 30), date(2026, 12, 1)))
    assert local(due_at(sh(2026, 11, 27, 23, 0), FIVE, policy)) == datetime(2026, 12, 2, 9, 5)


def test_long_working_minutes_span_days():
    # A whole working day is 540 minutes; 600 from Tuesday 09:00 ends Wednesday 10:00.
    assert local(due_at(sh(2026, 11, 24, 9, 0), Limit(600, "working_minutes"), POLICY)) == \
        datetime(2026, 11, 25, 10, 0)


def test_policy_without_working_time_refuses():
    with pytest.raises(ValueError):
        due_at(sh(2026, 11, 24, 9, 0), FIVE, SlaPolicy(working_weekdays=()))
    with pytest.raises(ValueError):
        due_at(sh(2026, 11, 24, 9, 0), Limit(3, "working_days"),
               SlaPolicy(working_weekdays=()))


def test_unknown_unit_refused():
    with pytest.raises(ValueError):
        due_at(sh(2026, 11, 24, 9, 0), Limit(3, "fortnights"), POLICY)


# --- working days --------------------------------------------------------------------------

def test_three_working_days_from_friday_is_wednesday_same_time():
    days3 = Limit(3, "working_days")
    assert local(due_at(sh(2026, 11, 27, 10, 15), days3, POLICY)) == \
        datetime(2026, 12, 2, 10, 15)
    # Late on Friday evening: still the same local time on Wednesday.
    assert local(due_at(sh(2026, 11, 27, 23, 0), days3, POLICY)) == datetime(2026, 12, 2, 23, 0)


def test_three_working_days_from_tuesday():
    assert local(due_at(sh(2026, 11, 24, 9, 0), Limit(3, "working_days"), POLICY)) == \
        datetime(2026, 11, 27, 9, 0)


def test_working_days_from_a_weekend_day():
    assert local(due_at(sh(2026, 11, 28, 11, 0), Limit(3, "working_days"), POLICY)) == \
        datetime(2026, 12, 2, 11, 0)


def test_working_days_skip_holidays():
    policy = SlaPolicy(holidays=(date(2026, 11, 30),))
    assert local(due_at(sh(2026, 11, 27, 10, 0), Limit(3, "working_days"), policy)) == \
        datetime(2026, 12, 3, 10, 0)
    # A week of holidays (National Day style) pushes the due date past it.
    golden = tuple(date(2026, 10, d) for d in range(1, 8))
    policy = SlaPolicy(holidays=golden)
    assert local(due_at(sh(2026, 9, 30, 15, 0), Limit(3, "working_days"), policy)) == \
        datetime(2026, 10, 12, 15, 0)


def test_working_days_counted_in_policy_timezone():
    # 02:00 UTC Friday is 10:00 Friday in Shanghai but still Thursday night in UTC-terms
    # elsewhere: the policy's zone decides.
    start = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
    assert local(due_at(start, Limit(3, "working_days"), POLICY)) == datetime(2026, 12, 2, 10, 0)


# --- the policy's limits per clock ---------------------------------------------------------

def test_job_clock_limits_per_contract():
    for job_type in ("repair", "delivery", "installation", "inspection"):
        limits = job_clock_limits(job_type, POLICY)
        assert list(limits) == ["first_contact", "response", "resolution"]
        assert limits["first_contact"] == Limit(5, "working_minutes")
        assert limits["response"] == Limit(24, "hours")
    assert job_clock_limits("repair", POLICY)["resolution"] == Limit(3, "working_days")
    assert job_clock_limits("delivery", POLICY)["resolution"] == Limit(48, "hours")


def test_complaint_clock_limits():
    assert complaint_clock_limits("general", POLICY) == {"coordination": Limit(24, "hours")}
    assert complaint_clock_limits("major", POLICY) == {"escalation": Limit(1, "hours"),
                                                       "coordination": Limit(24, "hours")}


# --- clock state ---------------------------------------------------------------------------

DUE = datetime(2026, 11, 24, 1, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("met,now,state", [
    (None, DUE - timedelta(minutes=1), "running"),
    (None, DUE, "running"),
    (None, DUE + timedelta(seconds=1), "breached"),
    (DUE - timedelta(minutes=4), DUE + timedelta(days=3), "met"),
    (DUE, DUE + timedelta(days=3), "met"),
    (DUE + timedelta(seconds=1), DUE + timedelta(days=3), "breached"),  # met late = breached
    (DUE + timedelta(hours=2), DUE - timedelta(hours=1), "breached"),
])
def test_clock_state(met, now, state):
    assert clock_state(DUE, met, now) == state


def test_clock_state_accepts_naive_utc_from_sqlite():
    naive_due = DUE.replace(tzinfo=None)
    assert clock_state(naive_due, None, DUE - timedelta(minutes=1)) == "running"
    assert clock_state(naive_due, naive_due + timedelta(minutes=1), DUE) == "breached"
    assert clock_state(DUE, (DUE - timedelta(minutes=1)).replace(tzinfo=None), DUE) == "met"


# --- the core stays free of Flask ----------------------------------------------------------

def test_core_and_sync_import_without_flask():
    code = ("import fieldapp.core.states, fieldapp.core.checklist, fieldapp.core.sla, "
            "sync.engine, sync.pull, sync.blobs, fieldapp.models; import sys; "
            "assert 'flask' not in sys.modules, sorted(m for m in sys.modules "
            "if m.startswith('flask'))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

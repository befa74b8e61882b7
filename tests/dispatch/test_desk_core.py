"""The desk's plain rules: working time between two instants, how much of a limit is left
(amber below a share), stored limits, and the complaint lifecycle table."""
from datetime import date

import pytest

from fieldapp.core import complaints as rules
from fieldapp.core.sla import (
    BREACHED,
    MET,
    MET_LATE,
    OK,
    WARNING,
    Limit,
    SlaPolicy,
    clock_level,
    due_at,
    fraction_left,
    limit_from_dict,
    working_seconds_between,
)
from tests.support.deskkit import sh

POLICY = SlaPolicy()


@pytest.mark.parametrize("start,end,minutes", [
    (sh(2026, 11, 24, 9, 0), sh(2026, 11, 24, 9, 5), 5),
    (sh(2026, 11, 24, 17, 0), sh(2026, 11, 25, 10, 0), 120),      # evening skipped
    (sh(2026, 11, 27, 17, 58), sh(2026, 11, 30, 9, 3), 5),        # weekend skipped
    (sh(2026, 11, 28, 10, 0), sh(2026, 11, 29, 16, 0), 0),        # all weekend
    (sh(2026, 11, 24, 12, 0), sh(2026, 11, 24, 11, 0), 0),        # backwards
    (sh(2026, 11, 23, 9, 0), sh(2026, 11, 30, 9, 0), 5 * 9 * 60),  # a working week
])
def test_working_seconds_between(start, end, minutes):
    assert working_seconds_between(start, end, POLICY) == minutes * 60


def test_holidays_are_not_working_time():
    policy = SlaPolicy(holidays=(date(2026, 11, 30),))
    assert working_seconds_between(sh(2026, 11, 27, 17, 58), sh(2026, 12, 1, 9, 3),
                                   policy) == 300


def test_fraction_left_counts_on_the_limits_basis():
    start = sh(2026, 11, 27, 23, 0)  # Friday night
    due = due_at(start, Limit(5, "working_minutes"), POLICY)
    assert fraction_left(start, due, sh(2026, 11, 29, 20, 0), "working_minutes", POLICY) == 1.0
    assert fraction_left(start, due, sh(2026, 11, 30, 9, 4), "working_minutes", POLICY) == 0.2
    # The same clock on a wall-time basis would look nearly spent on Sunday.
    assert fraction_left(start, due, sh(2026, 11, 29, 20, 0), "minutes", POLICY) < 0.25
    assert fraction_left(start, due, sh(2026, 12, 1, 9, 0), "working_minutes", POLICY) == 0.0


@pytest.mark.parametrize("now,met,level", [
    (sh(2026, 11, 24, 9, 0), None, OK),
    (sh(2026, 11, 24, 9, 3, ), None, OK),          # 2 of 5 minutes left: 40 %
    (sh(2026, 11, 24, 9, 4), None, WARNING),      # 1 of 5: 20 %
    (sh(2026, 11, 24, 9, 6), None, BREACHED),
    (sh(2026, 11, 24, 9, 6), sh(2026, 11, 24, 9, 2), MET),
    (sh(2026, 11, 24, 9, 9), sh(2026, 11, 24, 9, 7), MET_LATE),  # history, not an alarm
])
def test_clock_level(now, met, level):
    start = sh(2026, 11, 24, 9, 0)
    due = sh(2026, 11, 24, 9, 5)
    assert clock_level(start, due, met, now, "working_minutes", POLICY) == level


def test_the_amber_share_is_a_parameter():
    start, due = sh(2026, 11, 24, 9, 0), sh(2026, 11, 24, 19, 0)  # 10 h
    now = sh(2026, 11, 24, 15, 0)  # 40 % left
    assert clock_level(start, due, None, now, "hours", POLICY) == OK
    assert clock_level(start, due, None, now, "hours", POLICY, warn_fraction=0.5) == WARNING


@pytest.mark.parametrize("value", [{"amount": 0, "unit": "hours"},
                                   {"amount": 5, "unit": "fortnights"},
                                   {"amount": "5", "unit": "hours"},
                                   {"amount": True, "unit": "hours"}, {}])
def test_stored_limits_are_checked(value):
    with pytest.raises(ValueError):
        limit_from_dict(value)
    assert limit_from_dict({"amount": 3, "unit": "working_days"}) == Limit(3, "working_days")


def test_complaint_moves():
    assert rules.STATUSES == ("open", "escalated", "in_progress", "resolved", "closed")
    rules.check_move("open", "escalated")
    rules.check_move("resolved", "in_progress")  # not satisfied: back to work
    rules.check_move("resolved", "closed")
    for frm, to in (("open", "closed"), ("closed", "open"), ("escalated", "open"),
                    ("in_progress", "closed"), ("closed", "in_progress")):
        with pytest.raises(rules.MoveRefused) as refused:
            rules.check_move(frm, to)
        assert refused.value.code == "illegal_complaint_transition"
    with pytest.raises(rules.MoveRefused) as refused:
        rules.check_move("open", "pending")
    assert refused.value.code == "unknown_status"
    assert rules.MEETS["escalated"] == ("escalation",)
    assert rules.MEETS["in_progress"] == rules.MEETS["resolved"] == ("coordination",)

"""Which clock is an alarm (core/sla.py, issue 17): only one someone can still act on. Plain
Python: every job status against every job clock, and the levels of a clock over its life."""
from datetime import datetime, timedelta, timezone

import pytest

from fieldapp.core import sla, states

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)  # Tuesday 09:00 in Shanghai
POLICY = sla.SlaPolicy()

OPEN = [states.NEW, states.SCHEDULED, states.EN_ROUTE, states.ON_SITE, states.IN_PROGRESS,
        states.PAUSED, states.REWORK, states.UNSUCCESSFUL]
DONE = [states.COMPLETED, states.APPROVED, states.CANCELLED]


def test_every_status_is_either_open_or_done():
    assert sorted(OPEN + DONE) == sorted(states.STATUSES)


@pytest.mark.parametrize("status", DONE)
@pytest.mark.parametrize("name", sla.JOB_CLOCKS)
@pytest.mark.parametrize("appointment", [False, True])
def test_no_clock_of_a_done_job_is_an_alarm(status, name, appointment):
    assert not sla.job_clock_actionable(name, status, appointment)


@pytest.mark.parametrize("status", OPEN)
@pytest.mark.parametrize("name", [sla.RESPONSE, sla.RESOLUTION])
def test_response_and_resolution_run_while_the_job_is_open(status, name):
    assert sla.job_clock_actionable(name, status, True)


def test_first_contact_is_an_alarm_only_while_no_visit_is_agreed():
    assert sla.job_clock_actionable(sla.FIRST_CONTACT, states.NEW, False)
    assert not sla.job_clock_actionable(sla.FIRST_CONTACT, states.NEW, True)  # time given
    for status in OPEN[1:] + DONE:
        assert not sla.job_clock_actionable(sla.FIRST_CONTACT, status, True), status
    assert sla.job_clocks_to_stop(states.SCHEDULED, True) == (sla.FIRST_CONTACT,)
    assert sla.job_clocks_to_stop(states.NEW, False) == ()
    assert sla.job_clocks_to_stop(states.COMPLETED, True) == sla.JOB_CLOCKS


def level(now, stopped=None, met=None, due=T0 + timedelta(hours=4), warn=0.25):
    return sla.clock_level(T0, due, met, now, "hours", POLICY, warn, stopped=stopped)


def test_a_clock_over_its_life_amber_for_its_last_quarter_then_red_then_history():
    due = T0 + timedelta(hours=4)
    assert level(T0) == sla.OK
    assert level(T0 + timedelta(hours=2, minutes=59)) == sla.OK
    assert level(T0 + timedelta(hours=3, seconds=1)) == sla.WARNING  # under 25 % left
    assert level(due) == sla.WARNING                                # due, not yet late
    assert level(due + timedelta(seconds=1)) == sla.BREACHED
    # It stops unmet: history, never an alarm again, whatever the time.
    assert level(due + timedelta(days=9), stopped=due + timedelta(hours=1)) == sla.MISSED
    assert level(due + timedelta(days=9), stopped=T0 + timedelta(hours=1)) == sla.STOPPED
    # Met: met, even if it stopped later.
    assert level(due + timedelta(days=9), met=T0 + timedelta(hours=1),
                 stopped=due + timedelta(hours=1)) == sla.MET
    assert sla.ALARM_LEVELS == {sla.WARNING, sla.BREACHED}


def test_the_amber_share_is_the_desks_setting():
    assert level(T0 + timedelta(hours=2, minutes=1), warn=0.5) == sla.WARNING
    assert level(T0 + timedelta(hours=2, minutes=1), warn=0.25) == sla.OK

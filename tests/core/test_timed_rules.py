"""The timed rules of issue 7 as plain Python: each falls due at its boundary, not before."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from fieldapp.core import timed

SH = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def sh(*args) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def test_a_clock_is_breached_only_after_its_due_time_and_only_while_running():
    due = sh(2026, 11, 24, 9, 5)
    assert not timed.breached(due, None, None, due - timedelta(seconds=1))
    assert not timed.breached(due, None, None, due)  # the desk's red starts after `due` too
    assert timed.breached(due, None, None, due + timedelta(seconds=1))
    assert not timed.breached(due, due, None, due + timedelta(hours=1))  # met
    assert not timed.breached(due, None, due, due + timedelta(hours=1))  # stopped
    # Met late: the breach is on record, but nothing is left to escalate.
    assert not timed.breached(due, due + timedelta(minutes=1), None, due + timedelta(hours=1))


def test_who_hears_of_which_breach():
    assert timed.breach_rule("first_contact") == ("sla_first_contact", ("dispatcher",))
    assert timed.breach_rule("escalation") == ("complaint_not_escalated", ("supervisor",))
    assert timed.breach_rule("resolution") == ("sla_resolution", ("dispatcher", "supervisor"))
    assert timed.breach_rule("response") is None
    assert timed.breach_rule("coordination") is None


def test_tomorrows_jobs_are_due_from_the_reminder_hour_of_the_day_before():
    job_at = sh(2026, 11, 25, 10, 0)
    args = ("scheduled", 7)
    assert not timed.reminder_due(job_at, *args, sh(2026, 11, 24, 16, 59, 59), SH, 17)
    assert timed.reminder_due(job_at, *args, sh(2026, 11, 24, 17, 0), SH, 17)
    assert timed.reminder_due(job_at, *args, sh(2026, 11, 24, 23, 59), SH, 17)
    # On the day itself it is no longer "tomorrow".
    assert not timed.reminder_due(job_at, *args, sh(2026, 11, 25, 0, 1), SH, 17)
    # The technician's local day: 00:30 on the 26th in Shanghai is still the 25th in UTC.
    late = sh(2026, 11, 26, 0, 30)
    assert late.astimezone(UTC).day == 25
    assert timed.reminder_due(late, *args, sh(2026, 11, 25, 17, 0), SH, 17)
    assert not timed.reminder_due(late, *args, sh(2026, 11, 24, 17, 0), SH, 17)
    # Unassigned, unscheduled or already under way: no reminder.
    assert not timed.reminder_due(job_at, "scheduled", None, sh(2026, 11, 24, 18), SH, 17)
    assert not timed.reminder_due(None, *args, sh(2026, 11, 24, 18), SH, 17)
    assert not timed.reminder_due(job_at, "en_route", 7, sh(2026, 11, 24, 18), SH, 17)


def test_a_rescheduled_job_is_a_new_reminder_subject():
    one = timed.reminder_key("j1", 7, sh(2026, 11, 25, 10))
    assert one == timed.reminder_key("j1", 7, sh(2026, 11, 25, 10))
    assert one != timed.reminder_key("j1", 7, sh(2026, 11, 25, 14))
    assert one != timed.reminder_key("j1", 8, sh(2026, 11, 25, 10))


def test_a_device_is_stale_after_a_day_of_silence_while_holding_field_work():
    synced = timed.last_sync(sh(2026, 11, 1, 8), sh(2026, 11, 24, 9), None,
                             sh(2026, 11, 24, 10))
    assert synced == sh(2026, 11, 24, 10)
    day = timedelta(hours=24)
    assert not timed.device_stale(synced, synced + day - timedelta(seconds=1), day, True)
    assert timed.device_stale(synced, synced + day, day, True)
    assert not timed.device_stale(synced, synced + 3 * day, day, False)  # nothing in hand
    assert not timed.device_stale(synced, synced + 3 * day, day, True, revoked=True)
    # Never synced: counted from its registration.
    assert timed.last_sync(sh(2026, 11, 1, 8)) == sh(2026, 11, 1, 8)
    # Each silent period is its own subject: a sync in between makes a new key.
    assert timed.stale_key("d", synced) != timed.stale_key("d", synced + timedelta(hours=1))


def test_only_unreferenced_blobs_older_than_the_retention_go():
    now = sh(2026, 12, 24, 9)
    keep = timedelta(days=30)
    blobs = [("a" * 64, now - keep), ("b" * 64, now - keep + timedelta(seconds=1)),
             ("c" * 64, now - keep - timedelta(days=9)), ("d" * 64, now - 2 * keep)]
    assert timed.blobs_to_remove(blobs, {"c" * 64}, now, keep) == ["a" * 64, "d" * 64]
    assert timed.blobs_to_remove(blobs, {b for b, _ in blobs}, now, keep) == []

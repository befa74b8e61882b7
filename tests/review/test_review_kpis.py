"""fieldapp/core/kpis.py against hand-computed values from a known fixture."""
from datetime import datetime, timedelta, timezone

from fieldapp.core import kpis

D = datetime(2026, 11, 2, 0, 0, tzinfo=timezone.utc)  # range: 2 Nov .. 1 Dec
START, END = D, D + timedelta(days=29)
H = timedelta(hours=1)


def job(id_, tech, status, *, day, arrive=None, done_after=None, reworked=False,
        customer="c" + "x", model="M1", met=5, total=5, window=True):
    created = D + timedelta(days=day)
    start = created + 2 * H
    return {"id": id_, "technician_id": tech, "customer_id": customer, "product_model": model,
            "status": status, "created_at": created,
            "scheduled_start": start if window else None,
            "scheduled_end": start + 2 * H if window else None,
            "first_on_site_at": start + arrive if arrive is not None else None,
            "completed_at": created + done_after if done_after is not None else None,
            "reworked": reworked, "required_total": total, "required_met": met}


JOBS = [
    # tech 1: four done
    job("a", 1, "approved", day=1, arrive=H, done_after=5 * H, customer="c1"),       # on time
    job("b", 1, "approved", day=2, arrive=3 * H, done_after=30 * H, customer="c2"),  # late, >24h
    job("c", 1, "approved", day=3, arrive=0 * H, done_after=4 * H, reworked=True,
        customer="c3"),                                                               # rework
    job("d", 1, "completed", day=4, arrive=H, done_after=6 * H, customer="c4", met=4),
    # repeat of "a" (same customer and model) 10 days later: "a" is no first-time fix
    job("e", 2, "scheduled", day=11, customer="c1"),
    # tech 2: one done, one cancelled, one open
    job("f", 2, "approved", day=5, arrive=2 * H, done_after=20 * H, customer="c5",
        window=False),
    job("g", 2, "cancelled", day=6, customer="c6"),
    # outside the range: counts for nothing
    job("h", 2, "approved", day=-5, arrive=H, done_after=2 * H, customer="c7"),
]
NAMES = {1: "张师傅", 2: "李师傅"}


def test_per_technician_and_team_against_hand_computed_values():
    rows, team = kpis.compute(JOBS, START, END, NAMES)
    by = {r.technician_id: r for r in rows}
    one, two = by[1], by[2]
    # tech 1: a, b, c, d done.
    assert one.jobs_done == 4
    assert (one.on_time.num, one.on_time.den) == (3, 4)          # b arrived after the window
    assert (one.compliance.num, one.compliance.den) == (3, 4)    # d: 4 of 5 required items
    assert (one.first_time_fix.num, one.first_time_fix.den) == (1, 3)  # a repeat, c rework; d not approved
    assert (one.within_24h.num, one.within_24h.den) == (3, 4)    # b took 30 h
    assert (one.resolution.num, one.resolution.den) == (4, 4)
    # tech 2: f done (no window: no on-time figure); e open; g cancelled (not counted).
    assert two.jobs_done == 1
    assert two.on_time.den == 0 and two.on_time.value is None
    assert (two.first_time_fix.num, two.first_time_fix.den) == (1, 1)
    assert (two.within_24h.num, two.within_24h.den) == (1, 1)
    assert (two.resolution.num, two.resolution.den) == (1, 2)    # f done, e still open
    # Team: everything together.
    assert team.jobs_done == 5
    assert (team.on_time.num, team.on_time.den) == (3, 4)
    assert team.on_time.value == 0.75 and kpis.meets("on_time", team.on_time.value) is False
    assert (team.first_time_fix.num, team.first_time_fix.den) == (2, 4)
    assert (team.resolution.num, team.resolution.den) == (5, 6)
    assert kpis.meets("resolution", 5 / 6) is False and kpis.meets("resolution", 0.95) is True
    assert team.satisfaction.value is None and team.mean_score is None and team.complaints is None


def test_complaints_are_counted_per_technician_in_the_range():
    complaints = [{"technician_id": 1, "created_at": D + timedelta(days=3)},
                  {"technician_id": None, "created_at": D + timedelta(days=4)},
                  {"technician_id": 2, "created_at": D - timedelta(days=1)}]
    rows, team = kpis.compute(JOBS, START, END, NAMES, complaints=complaints)
    by = {r.technician_id: r.complaints for r in rows}
    assert by == {1: 1, 2: 0} and team.complaints == 2


def test_on_time_window_edges_are_inclusive():
    base = job("x", 1, "approved", day=1, arrive=0 * H, done_after=3 * H)
    assert kpis.on_time(base) is True
    assert kpis.on_time(dict(base, first_on_site_at=base["scheduled_end"])) is True
    assert kpis.on_time(dict(base, first_on_site_at=base["scheduled_end"] + timedelta(seconds=1))) is False


# --- satisfaction from return visits (回访) and repeat visits they open -----------------------

VISITS = [
    # tech 1: scores 5, 4, 3, 5 in the range -> 3 of 4 satisfied (75 %), mean 17/4 = 4.25
    {"technician_id": 1, "score": 5, "answered_at": D + timedelta(days=2)},
    {"technician_id": 1, "score": 4, "answered_at": D + timedelta(days=3)},
    {"technician_id": 1, "score": 3, "answered_at": D + timedelta(days=4)},
    {"technician_id": 1, "score": 5, "answered_at": D + timedelta(days=5)},
    # tech 2: 5 and 5 -> 2 of 2 (100 %), mean 5.0
    {"technician_id": 2, "score": 5, "answered_at": D + timedelta(days=6)},
    {"technician_id": 2, "score": 5, "answered_at": D + timedelta(days=7)},
    # outside the range (answered before it, and exactly at its end): not counted
    {"technician_id": 2, "score": 1, "answered_at": D - timedelta(seconds=1)},
    {"technician_id": 1, "score": 1, "answered_at": END},
    # not answered yet: not counted
    {"technician_id": 1, "score": None, "answered_at": None},
]


def test_satisfaction_from_return_visits_against_hand_computed_values():
    rows, team = kpis.compute(JOBS, START, END, NAMES, visits=VISITS)
    by = {r.technician_id: r for r in rows}
    assert (by[1].satisfaction.num, by[1].satisfaction.den) == (3, 4)
    assert by[1].satisfaction.value == 0.75 and by[1].mean_score == 4.25
    assert kpis.meets("satisfaction", by[1].satisfaction.value) is False   # target 90 %
    assert (by[2].satisfaction.num, by[2].satisfaction.den) == (2, 2)
    assert by[2].mean_score == 5.0 and kpis.meets("satisfaction", 1.0) is True
    # Team: 5 of 6 satisfied = 83.3 %, mean (17 + 10) / 6 = 4.5
    assert (team.satisfaction.num, team.satisfaction.den) == (5, 6)
    assert team.mean_score == 4.5
    assert kpis.meets("satisfaction", team.satisfaction.value) is False
    assert kpis.meets("satisfaction", 0.9) is True


def test_a_follow_up_from_the_return_visit_is_a_repeat_visit_within_30_days():
    base = job("x", 1, "approved", day=1, arrive=H, done_after=5 * H, customer="solo",
               model="only-one")
    done = base["completed_at"]
    assert kpis.first_time_fix(base, [base]) is True
    assert kpis.first_time_fix(dict(base, followup_at=done + timedelta(days=4)), [base]) is False
    assert kpis.first_time_fix(dict(base, followup_at=done + timedelta(days=30)), [base]) is False
    # More than 30 days later it is a new problem, not a repeat.
    assert kpis.first_time_fix(dict(base, followup_at=done + timedelta(days=30, seconds=1)),
                               [base]) is True
    rows, team = kpis.compute([dict(base, followup_at=done + timedelta(days=4))], START, END,
                              NAMES)
    assert (team.first_time_fix.num, team.first_time_fix.den) == (0, 1)

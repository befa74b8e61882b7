"""The desk with 100,000 jobs (500 days of a busy office, bulk-inserted): searches, keyset
pages, the CSV export and the board answer exactly what the data holds, quickly."""
import random
import time
from datetime import date

import pytest

from bench.bulk_jobs import make_jobs
from fieldapp.desk import service as desk_service
from tests.dispatch.test_desk_lists import newest_first, read_csv, refs, walk
from tests.support.deskkit import Desk

N = 100_000
TODAY = date(2026, 11, 24)
SLOW = 3.0  # seconds: far above what a page takes; a missing index would blow through it


@pytest.fixture
def big(app, demo):
    from fieldapp.extensions import db

    with app.app_context():
        facts = make_jobs(db.session, N, today=TODAY, per_day=200,
                          tz=app.extensions["fieldapp.policy"].tz,
                          technician_ids=[demo["tech1"], demo["tech2"]])
    return facts


def timed(desk, url):
    started = time.perf_counter()
    response = desk.get(url)
    took = time.perf_counter() - started
    assert response.status_code == 200, url
    assert took < SLOW, f"{url} took {took:.2f}s"
    return response.get_data(as_text=True)


def test_search_and_lists_at_100000_jobs(app, big):
    desk = Desk(app, "dispatcher1")
    rng = random.Random(5)
    tz = app.extensions["fieldapp.policy"].tz
    jobs = big.jobs
    assert len(jobs) == N

    # By reference: exactly the one.
    for job in rng.sample(jobs, 5):
        assert refs(timed(desk, f"/dispatch/jobs?q={job['ref']}")) == [job["ref"]]

    # By phone: every job of that customer, newest first, across pages.
    for job in rng.sample(jobs, 3):
        expected = newest_first(big.by_phone_key(job["contact_phone"]))
        timed(desk, f"/dispatch/jobs?q={job['contact_phone']}")
        assert walk(desk, f"q={job['contact_phone']}") == expected

    # By name (about 2,500 of each): counted up to SEARCH_COUNT_CAP, the first pages in order.
    name = jobs[10]["contact_name"]
    named = [j for j in jobs if j["contact_name"] == name]
    html = timed(desk, f"/dispatch/jobs?q={name}")
    assert len(named) > desk_service.SEARCH_COUNT_CAP
    assert f"<b>More than {desk_service.SEARCH_COUNT_CAP} found</b>" in html
    assert refs(html) == newest_first(named)[:50]

    # By status: every open "new" job, all pages.
    new = [j for j in jobs if j["status"] == "new"]
    timed(desk, "/dispatch/jobs?status=new")
    listed = walk(desk, "status=new")
    assert len(listed) == len(new) + 2 and set(listed) >= {j["ref"] for j in new}

    # By visit date: that day's 200 visits (the scheduled ones), in time order.
    day = date(2026, 3, 3)
    visits = [j for j in jobs if j["scheduled_start"] is not None
              and j["scheduled_start"].astimezone(tz).date() == day]
    query = f"date_field=scheduled&date_from={day}&date_to={day}"
    timed(desk, f"/dispatch/jobs?{query}")
    assert walk(desk, query) == [j["ref"] for j in sorted(
        visits, key=lambda j: (j["scheduled_start"], j["id"]))]

    # Unfiltered: counted up to 10,000 ("more than 10000"), and keyset pages deep into the
    # list stay exact and as fast as the first.
    html = timed(desk, "/dispatch/jobs")
    assert "<b>More than 10000 found</b>" in html
    expected = newest_first(jobs)
    seen, url = [], "/dispatch/jobs"
    for _ in range(20):
        html = timed(desk, url)
        seen += refs(html)
        url = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0] \
            .replace("&amp;", "&")
    assert len(seen) == len(set(seen)) == 1000
    bulk = [r for r in seen if len(r) > len("FA261124-0001")]  # the demo's 8 come first
    assert set(seen[:8]) == {f"FA261124-{n:04d}" for n in range(1, 9)} and len(bulk) == 992
    assert bulk == expected[:992]

    # A complex filter's CSV holds exactly what the list shows.
    query = f"q={name}&status=approved&date_field=created&date_from=2026-01-01&date_to=2026-06-30"
    listed = walk(desk, query)
    started = time.perf_counter()
    rows = read_csv(desk.get(f"/dispatch/jobs.csv?{query}"))
    assert time.perf_counter() - started < SLOW * 3
    assert [r[0] for r in rows[1:]] == listed and len(listed) > 100


def test_board_and_breaches_at_100000_jobs(app, big):
    desk = Desk(app, "dispatcher1")
    tz = app.extensions["fieldapp.policy"].tz
    started = time.perf_counter()
    data = desk.get("/dispatch/board.json").get_json()
    assert time.perf_counter() - started < SLOW
    today = [j for j in big.jobs if j["scheduled_start"] is not None
             and j["technician_id"] is not None and j["status"] != "cancelled"
             and j["scheduled_start"].astimezone(tz).date() == TODAY]
    shown = {j["id"] for lane in data["lanes"] for j in lane["jobs"]}
    assert {j["id"] for j in today} <= shown
    assert len(shown) == len(today) + 6  # and the demo's six
    open_unassigned = [j for j in big.jobs if j["technician_id"] is None]
    assert data["unassigned_total"] == len(open_unassigned) + 2
    assert len(data["unassigned"]) == 100  # the queue shows the first 100, urgent first
    priorities = [j["priority"] for j in data["unassigned"]]
    assert priorities == sorted(priorities, key=lambda p: p != "urgent")
    timed(desk, "/dispatch/")
    timed(desk, "/dispatch/breaches")

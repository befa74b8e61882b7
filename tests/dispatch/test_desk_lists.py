"""Search by reference, phone, name, status and date; keyset pages that never skip or repeat a
row; the CSV export of exactly what is listed (UTF-8 with BOM, headers in the UI's language)."""
import csv
import io
import re
from datetime import date

import pytest

from bench.bulk_jobs import make_jobs
from tests.support.deskkit import Desk, intake_form, sh


@pytest.fixture
def many(app, demo):
    from fieldapp.extensions import db

    with app.app_context():
        return make_jobs(db.session, 300, today=date(2026, 11, 24), per_day=60,
                         tz=app.extensions["fieldapp.policy"].tz,
                         technician_ids=[demo["tech1"], demo["tech2"]])


def refs(html: str) -> list[str]:
    return re.findall(r'<a href="/dispatch/jobs/[0-9a-f-]{36}">(FA\d{6}-\d+)</a>', html)


def walk(desk, query: str) -> list[str]:
    """Every reference the list shows for `query`, page after page."""
    seen, url = [], f"/dispatch/jobs?{query}"
    for _ in range(100):
        html = desk.html(url)
        seen += refs(html)
        nxt = re.search(r'<a class="button" href="([^"]+)" rel="next">', html)
        if not nxt:
            return seen
        url = nxt.group(1).replace("&amp;", "&")
    raise AssertionError("too many pages")


def newest_first(jobs):
    return [j["ref"] for j in sorted(jobs, key=lambda j: (j["created_at"], j["id"]),
                                     reverse=True)]


def test_search_by_reference(app, many):
    desk = Desk(app, "dispatcher1")
    job = many.jobs[123]
    assert refs(desk.html(f"/dispatch/jobs?q={job['ref']}")) == [job["ref"]]
    assert refs(desk.html(f"/dispatch/jobs?q={job['ref'].lower()}")) == [job["ref"]]
    assert refs(desk.html("/dispatch/jobs?q=FA990101-0001")) == []


def test_search_by_phone_however_typed(app, many):
    desk = Desk(app, "dispatcher1")
    key = many.jobs[7]["contact_phone"]
    expected = newest_first(many.by_phone_key(key))
    assert expected
    for typed in (key, f"{key[:3]}-{key[3:7]}-{key[7:]}", f"+86 {key}"):
        assert walk(desk, f"q={typed}") == expected, typed
    # The ending of a number (尾号) finds every customer whose number ends so.
    tail = key[-4:]
    expected_tail = newest_first([j for j in many.jobs if j["contact_phone"].endswith(tail)])
    assert walk(desk, f"q={tail}") == expected_tail
    # Part of a number from its start (7-10 digits) finds every number beginning so.
    start = key[:9]
    expected_start = newest_first([j for j in many.jobs
                                   if j["contact_phone"].startswith(start)])
    assert len(expected_start) > 1 and walk(desk, f"q={start[:3]}-{start[3:]}") == \
        expected_start
    demo_start = walk(desk, "q=139-1234")
    assert set(demo_start) == {f"FA261124-{n:04d}" for n in range(1, 9)}


def test_search_by_name_status_technician_and_flags(app, many, demo):
    desk = Desk(app, "dispatcher1")
    chen = [j for j in many.jobs if "陈" in j["contact_name"]]
    bulk = {j["ref"] for j in many.jobs}
    found = walk(desk, "q=陈")
    assert [r for r in found if r in bulk] == newest_first(chen)
    assert len(found) == len(chen) + 1  # and the demo's 陈女士
    new = [j for j in many.jobs if j["status"] == "new"]
    demo_new = 2
    assert len(walk(desk, "status=new")) == len(new) + demo_new
    unassigned = walk(desk, "technician=none")
    assert set(unassigned) >= {j["ref"] for j in many.jobs if j["technician_id"] is None}
    flagged = [j for j in many.jobs if j["needs_review"]]
    assert walk(desk, "needs_review=y") == newest_first(flagged)
    mine = walk(desk, f"technician={demo['tech2']}&status=in_progress")
    assert mine == newest_first([j for j in many.jobs if j["technician_id"] == demo["tech2"]
                                 and j["status"] == "in_progress"])


def test_search_by_date_of_intake_or_visit(app, many):
    desk = Desk(app, "dispatcher1")
    tz = app.extensions["fieldapp.policy"].tz
    day = date(2026, 11, 22)
    on_day = [j for j in many.jobs if j["created_at"].astimezone(tz).date() == day]
    assert walk(desk, "date_field=created&date_from=2026-11-22&date_to=2026-11-22") == \
        newest_first(on_day)
    visits = [j for j in many.jobs if j["scheduled_start"] is not None
              and j["scheduled_start"].astimezone(tz).date() == day]
    got = walk(desk, "date_field=scheduled&date_from=2026-11-22&date_to=2026-11-22")
    # A visit range reads in time order.
    assert got == [j["ref"] for j in sorted(visits, key=lambda j: (j["scheduled_start"],
                                                                    j["id"]))]


def test_pages_never_skip_or_repeat(app, many):
    desk = Desk(app, "dispatcher1")
    everything = walk(desk, "")
    assert len(everything) == len(set(everything)) == len(many.jobs) + 8
    assert [r for r in everything if r in {j["ref"] for j in many.jobs}] == \
        newest_first(many.jobs)
    html = desk.html("/dispatch/jobs")
    assert f"<b>{len(many.jobs) + 8}</b>" in html


def test_a_broken_page_link_starts_again(app, many):
    desk = Desk(app, "dispatcher1")
    html = desk.html("/dispatch/jobs?cursor=not-a-cursor")
    assert "start from the first page" in html and len(refs(html)) == 50


def read_csv(response):
    assert response.mimetype == "text/csv"
    raw = response.data.decode("utf-8")
    assert raw.startswith("\ufeff")  # Excel opens UTF-8 only with the BOM
    return list(csv.reader(io.StringIO(raw[1:])))


def test_csv_exports_exactly_what_is_listed(app, many):
    desk = Desk(app, "dispatcher1")
    listed = walk(desk, "q=陈&status=scheduled")
    assert listed
    response = desk.get("/dispatch/jobs.csv?q=陈&status=scheduled")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:4] == ["Reference", "Intake time", "Job type", "Status"]
    assert [r[0] for r in rows[1:]] == listed
    assert {r[3] for r in rows[1:]} == {"Scheduled"}
    everything = read_csv(desk.get("/dispatch/jobs.csv"))
    assert len(everything) == len(many.jobs) + 8 + 1


def test_csv_headers_and_values_are_chinese_for_a_chinese_ui(app, many):
    desk = Desk(app, "dispatcher1", lang="zh_CN")
    rows = read_csv(desk.get("/dispatch/jobs.csv?status=new"))
    assert rows[0][:5] == ["工单号", "登记时间", "工单类型", "状态", "优先级"]
    assert {r[3] for r in rows[1:]} == {"新建"}
    assert "首次联系" in rows[0]
    demo = [r for r in rows if r[6] == "冯女士"][0]
    assert demo[11] == "" and demo[7] == "139-1234-0007"


def test_search_form_keeps_what_was_asked(app, many):
    html = Desk(app, "dispatcher1").html("/dispatch/jobs?q=陈&status=approved&date_field=scheduled")
    assert 'value="陈"' in html
    assert re.search(r'<option selected value="approved">|<option value="approved" selected',
                     html)
    assert sh(2026, 11, 24, 9)  # the helpers stay importable


def test_csv_cells_never_run_as_formulas(app, demo):
    desk = Desk(app, "dispatcher1")
    desk.post("/dispatch/intake", data=intake_form(
        name="=cmd|' /C calc'!A0", problem='=HYPERLINK("http://evil","点我")'))
    rows = read_csv(desk.get("/dispatch/jobs.csv?q=cmd"))
    assert rows[1][6] == "'=cmd|' /C calc'!A0"
    assert rows[1][10].startswith("'=HYPERLINK(")


def test_a_name_search_counts_only_so_far(app, many, monkeypatch):
    """A name or phone fragment is counted up to SEARCH_COUNT_CAP ("more than N", in the
    reader's language), so its cost does not grow with the table; every match is still
    listed, page after page; the other filters are counted in full."""
    monkeypatch.setattr("fieldapp.desk.service.SEARCH_COUNT_CAP", 5)
    chen = [j for j in many.jobs if "陈" in j["contact_name"]]
    assert len(chen) > 6
    desk = Desk(app, "dispatcher1")
    html = desk.html("/dispatch/jobs?q=陈")
    assert "<b>More than 5 found</b>" in html
    assert len(walk(desk, "q=陈")) == len(chen) + 1  # the capped count hides none
    new = [j for j in many.jobs if j["status"] == "new"]
    assert f"<b>{len(new) + 2}</b> found" in desk.html("/dispatch/jobs?status=new")
    few = desk.html("/dispatch/jobs?q=陈女士1")  # under the cap: the count as it is
    assert "<b>0</b> found" in few and "More than" not in few
    zh = Desk(app, "dispatcher1", lang="zh_CN").html("/dispatch/jobs?q=陈")
    assert "<b>超过 5 条结果</b>" in zh

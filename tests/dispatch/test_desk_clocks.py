"""Every SLA clock starts, stops and breaches at the right moment, with the injected clock
moved instead of waiting: first contact (5 working minutes), response (24 h), resolution
(3 working days for repairs, 48 h for delivery), complaint escalation (1 h, major) and
coordination (24 h); working hours, weekends, holidays and admin-set limits included.

Tuesday 24 November 2026 09:00 Shanghai is the fixture's start; the 27th is a Friday."""
from datetime import timedelta

import pytest

from tests.support.deskkit import Desk, sh, z
from tests.support.helpers import complete_job, intake_body


def clocks(api, job_id, as_="dispatcher1") -> dict:
    job = api.get(f"/api/v1/jobs/{job_id}", as_=as_).get_json()
    return {c["name"]: c for c in job["sla"]}


def new_job(api, **overrides) -> dict:
    response = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def contact(api, job_id, outcome):
    response = api.post(f"/api/v1/jobs/{job_id}/contact", as_="dispatcher1",
                        json={"outcome": outcome})
    assert response.status_code == 201, response.get_json()


# --- first contact: 5 working minutes ---------------------------------------------------

def test_first_contact_starts_at_intake_and_breaches_after_five_minutes(api, demo, clock):
    job = new_job(api)
    fc = {c["name"]: c for c in job["sla"]}["first_contact"]
    assert fc["due_at"] == z(sh(2026, 11, 24, 9, 5)) and fc["state"] == "running"
    clock.set(sh(2026, 11, 24, 9, 5))
    assert clocks(api, job["id"])["first_contact"]["state"] == "running"  # due, not past
    clock.advance(seconds=1)
    assert clocks(api, job["id"])["first_contact"]["state"] == "breached"


def test_reaching_the_customer_stops_first_contact_and_nothing_else_does(api, demo, clock):
    job = new_job(api)
    clock.advance(minutes=2)
    for outcome in ("no_answer", "busy", "wrong_number", "left_message"):
        contact(api, job["id"], outcome)
        assert clocks(api, job["id"])["first_contact"]["met_at"] is None
    clock.advance(minutes=1)  # 09:03
    contact(api, job["id"], "reached")
    fc = clocks(api, job["id"])["first_contact"]
    assert fc["met_at"] == z(sh(2026, 11, 24, 9, 3)) and fc["state"] == "met"
    clock.advance(hours=5)
    assert clocks(api, job["id"])["first_contact"]["state"] == "met"  # stopped for good
    contact(api, job["id"], "reached")  # a second call does not move the stop
    assert clocks(api, job["id"])["first_contact"]["met_at"] == z(sh(2026, 11, 24, 9, 3))


def test_reached_too_late_is_a_breach_on_record(api, demo, clock):
    job = new_job(api)
    clock.advance(minutes=7)
    contact(api, job["id"], "reached")
    fc = clocks(api, job["id"])["first_contact"]
    assert fc["met_at"] == z(sh(2026, 11, 24, 9, 7)) and fc["state"] == "breached"


@pytest.mark.parametrize("intake_at,due", [
    (sh(2026, 11, 27, 17, 58), sh(2026, 11, 30, 9, 3)),   # Friday evening: 2 min + Monday 3
    (sh(2026, 11, 28, 11, 0), sh(2026, 11, 30, 9, 5)),    # Saturday: Monday opening + 5
    (sh(2026, 11, 24, 20, 0), sh(2026, 11, 25, 9, 5)),    # Tuesday night: Wednesday 09:05
    (sh(2026, 11, 24, 7, 30), sh(2026, 11, 24, 9, 5)),    # before opening
])
def test_first_contact_counts_working_minutes_only(api, demo, clock, intake_at, due):
    clock.set(intake_at)
    job = new_job(api)
    fc = clocks(api, job["id"])["first_contact"]
    assert fc["due_at"] == z(due)
    clock.set(due - timedelta(seconds=1))
    assert clocks(api, job["id"])["first_contact"]["state"] == "running"
    clock.set(due + timedelta(seconds=1))
    assert clocks(api, job["id"])["first_contact"]["state"] == "breached"


def test_weekend_intake_stays_green_until_monday_then_amber_then_red(app, api, demo, clock):
    """Time left is counted on the limit's own basis: the Friday-night call keeps its five
    working minutes all weekend; on Monday it turns amber with under 25 % left."""
    clock.set(sh(2026, 11, 27, 23, 0))
    job = new_job(api)
    desk = Desk(app, "dispatcher1")

    def level():
        html = desk.html(f"/dispatch/jobs/{job['id']}")
        row = html.split('id="clocks"')[1].split("</table>")[0]
        first = row.split("<tr")[2]  # header row, then first_contact
        assert "First contact" in first
        return first.split('class="sla lvl-')[1].split('"')[0]

    clock.set(sh(2026, 11, 29, 20, 0))  # Sunday evening
    assert level() == "ok"
    clock.set(sh(2026, 11, 30, 9, 3))   # Monday, 2 of 5 minutes left: 40 %
    assert level() == "ok"
    clock.set(sh(2026, 11, 30, 9, 4, ))  # 1 minute left: 20 %
    assert level() == "warning"
    clock.set(sh(2026, 11, 30, 9, 6))
    assert level() == "breached"


def test_a_holiday_set_by_the_admin_moves_the_due_time(app, api, demo, clock):
    admin = Desk(app, "admin")
    form = settings_form(admin)
    form["holidays"] = "2026-11-30"
    response = admin.post("/dispatch/settings", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    clock.set(sh(2026, 11, 27, 17, 58))
    job = new_job(api)
    assert clocks(api, job["id"])["first_contact"]["due_at"] == z(sh(2026, 12, 1, 9, 3))


def test_working_hours_and_days_are_settings(app, api, demo, clock):
    admin = Desk(app, "admin")
    form = settings_form(admin)
    form["working_weekdays"] = ["0", "1", "2", "3", "4", "5"]  # Saturdays too
    form["day_start"], form["day_end"] = "08:00", "20:00"
    form["first_contact__amount"] = "10"
    assert admin.post("/dispatch/settings", data=form).status_code == 302
    clock.set(sh(2026, 11, 27, 19, 58))  # Friday, now open until 20:00
    job = new_job(api)
    assert clocks(api, job["id"])["first_contact"]["due_at"] == z(sh(2026, 11, 28, 8, 8))


# --- response: 24 hours, met by dispatching a technician --------------------------------

def test_response_is_met_by_assignment_and_breaches_after_24_hours(api, demo, clock):
    waiting = new_job(api)
    assigned = new_job(api, customer={"name": "刘先生", "phone": "13912340777",
                                      "address": "上海市徐汇区漕溪北路 88 号"})
    assert clocks(api, waiting["id"])["response"]["due_at"] == z(sh(2026, 11, 25, 9, 0))
    clock.advance(hours=6)
    response = api.patch(f"/api/v1/jobs/{assigned['id']}", as_="dispatcher1", json={
        "technician_id": demo["tech1"], "scheduled_start": z(sh(2026, 11, 25, 10)),
        "scheduled_end": z(sh(2026, 11, 25, 12))})
    assert response.status_code == 200
    assert clocks(api, assigned["id"])["response"]["met_at"] == z(sh(2026, 11, 24, 15, 0))
    clock.set(sh(2026, 11, 25, 9, 0))
    assert clocks(api, waiting["id"])["response"]["state"] == "running"
    clock.advance(seconds=1)
    assert clocks(api, waiting["id"])["response"]["state"] == "breached"
    assert clocks(api, assigned["id"])["response"]["state"] == "met"


def test_response_runs_through_the_weekend(api, demo, clock):
    clock.set(sh(2026, 11, 27, 10, 0))  # Friday
    job = new_job(api)
    assert clocks(api, job["id"])["response"]["due_at"] == z(sh(2026, 11, 28, 10, 0))


# --- resolution: 3 working days (repair), 48 hours (delivery) ---------------------------

def test_repair_resolution_is_three_working_days_over_a_weekend(api, demo, clock):
    clock.set(sh(2026, 11, 26, 10, 0))  # Thursday
    job = new_job(api, type="repair")
    assert clocks(api, job["id"])["resolution"]["due_at"] == z(sh(2026, 12, 1, 10, 0))


def test_delivery_resolution_is_48_calendar_hours(api, demo, clock):
    clock.set(sh(2026, 11, 27, 10, 0))  # Friday
    job = new_job(api, type="delivery")
    assert clocks(api, job["id"])["resolution"]["due_at"] == z(sh(2026, 11, 29, 10, 0))


def test_completion_stops_resolution(api, demo, clock):
    job = new_job(api, type="repair")
    api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "technician_id": demo["tech1"], "scheduled_start": z(sh(2026, 11, 24, 14)),
        "scheduled_end": z(sh(2026, 11, 24, 16))})
    clock.set(sh(2026, 11, 26, 15, 0))
    complete_job(api, job["id"], at=z(clock.now()))  # done on the phone just now
    res = clocks(api, job["id"])["resolution"]
    assert res["met_at"] == z(sh(2026, 11, 26, 15, 0)) and res["state"] == "met"
    clock.set(sh(2026, 12, 10, 9, 0))
    assert clocks(api, job["id"])["resolution"]["state"] == "met"


def test_a_late_completion_is_a_resolution_breach(api, demo, clock):
    job = new_job(api, type="delivery")
    api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "technician_id": demo["tech1"], "scheduled_start": z(sh(2026, 11, 24, 14)),
        "scheduled_end": z(sh(2026, 11, 24, 16))})
    clock.set(sh(2026, 11, 26, 9, 1))  # 48 h and one minute
    complete_job(api, job["id"], at=z(clock.now()))  # done on the phone just now
    assert clocks(api, job["id"])["resolution"]["state"] == "breached"


# --- limits changed by an admin ------------------------------------------------------------

def test_a_new_limit_applies_to_new_clocks_and_running_ones_keep_theirs(app, api, demo, clock):
    before = new_job(api)
    admin = Desk(app, "admin")
    form = settings_form(admin)
    form["first_contact__amount"] = "10"
    form["response__amount"], form["response__unit"] = "4", "hours"
    form["resolution__delivery__amount"] = "24"
    assert admin.post("/dispatch/settings", data=form).status_code == 302
    after = new_job(api, type="delivery")
    assert clocks(api, before["id"])["first_contact"]["due_at"] == z(sh(2026, 11, 24, 9, 5))
    got = clocks(api, after["id"])
    assert got["first_contact"]["due_at"] == z(sh(2026, 11, 24, 9, 10))
    assert got["response"]["due_at"] == z(sh(2026, 11, 24, 13, 0))
    assert got["resolution"]["due_at"] == z(sh(2026, 11, 25, 9, 0))


def test_the_amber_threshold_is_a_setting(app, api, demo, clock):
    job = new_job(api)
    desk = Desk(app, "dispatcher1")
    clock.set(sh(2026, 11, 24, 9, 3, ) + timedelta(seconds=30))  # 1.5 of 5 minutes: 30 %
    html = desk.html(f"/dispatch/jobs/{job['id']}")
    assert "sla lvl-warning" not in html
    admin = Desk(app, "admin")
    form = settings_form(admin)
    form["warn_percent"] = "40"
    assert admin.post("/dispatch/settings", data=form).status_code == 302
    assert "sla lvl-warning" in desk.html(f"/dispatch/jobs/{job['id']}")


# --- complaints: escalation (major, 1 h) and coordination (24 h) --------------------------

def complaint(api, severity="major", **extra) -> dict:
    body = {"customer": {"name": "周女士", "phone": "13912340003"}, "about": "technician",
            "content": "师傅迟到两小时且态度差", "severity": severity, **extra}
    response = api.post("/api/v1/complaints", as_="dispatcher1", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def complaint_clocks(api, cid) -> dict:
    return {c["name"]: c for c in
            api.get(f"/api/v1/complaints/{cid}", as_="dispatcher1").get_json()["sla"]}


def test_major_complaint_escalation_clock_is_one_hour(api, demo, clock):
    c = complaint(api)
    got = {x["name"]: x for x in c["sla"]}
    assert [x["name"] for x in c["sla"]] == ["escalation", "coordination"]
    assert got["escalation"]["due_at"] == z(sh(2026, 11, 24, 10, 0))
    assert got["coordination"]["due_at"] == z(sh(2026, 11, 25, 9, 0))
    clock.advance(minutes=59)
    assert complaint_clocks(api, c["id"])["escalation"]["state"] == "running"
    response = api.patch(f"/api/v1/complaints/{c['id']}", as_="dispatcher1",
                         json={"status": "escalated", "note": "已报赵主管",
                               "supervisor_id": demo["supervisor1"]})
    assert response.status_code == 200, response.get_json()
    esc = complaint_clocks(api, c["id"])["escalation"]
    assert esc["met_at"] == z(sh(2026, 11, 24, 9, 59)) and esc["state"] == "met"
    assert complaint_clocks(api, c["id"])["coordination"]["met_at"] is None  # its own timer


def test_an_escalation_after_the_hour_is_a_breach(api, demo, clock):
    c = complaint(api)
    clock.advance(minutes=61)
    assert complaint_clocks(api, c["id"])["escalation"]["state"] == "breached"
    api.patch(f"/api/v1/complaints/{c['id']}", as_="dispatcher1", json={"status": "escalated"})
    assert complaint_clocks(api, c["id"])["escalation"]["state"] == "breached"  # met late


def test_general_complaint_has_only_coordination_met_when_handling_starts(api, demo, clock):
    c = complaint(api, severity="general")
    assert [x["name"] for x in c["sla"]] == ["coordination"]
    clock.advance(hours=23)
    api.patch(f"/api/v1/complaints/{c['id']}", as_="dispatcher1",
              json={"status": "in_progress", "note": "已通知售后维修组"})
    co = complaint_clocks(api, c["id"])["coordination"]
    assert co["met_at"] == z(sh(2026, 11, 25, 8, 0)) and co["state"] == "met"


def test_coordination_breaches_after_24_hours_even_over_a_weekend(api, demo, clock):
    clock.set(sh(2026, 11, 27, 16, 0))  # Friday
    c = complaint(api, severity="general")
    clock.set(sh(2026, 11, 28, 16, 0, ) + timedelta(seconds=1))
    assert complaint_clocks(api, c["id"])["coordination"]["state"] == "breached"


def test_reclassified_major_gets_its_hour_from_then(api, demo, clock):
    c = complaint(api, severity="general")
    clock.advance(minutes=30)
    response = api.patch(f"/api/v1/complaints/{c['id']}", as_="dispatcher1",
                         json={"severity": "major", "note": "顾客要求见经理"})
    assert response.status_code == 200, response.get_json()
    assert complaint_clocks(api, c["id"])["escalation"]["due_at"] == z(sh(2026, 11, 24, 10, 30))


# --- shared with the settings tests --------------------------------------------------------

def settings_form(desk: Desk) -> dict:
    """The settings page's current values, as the browser would post them back."""
    import re

    html = desk.html("/dispatch/settings")
    form = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        if name != "csrf_token":
            form[name] = value
    checked = re.findall(r'<input[^>]*checked[^>]*name="working_weekdays"[^>]*value="(\d)"', html)
    checked += re.findall(r'<input[^>]*name="working_weekdays"[^>]*value="(\d)"[^>]*checked', html)
    form["working_weekdays"] = sorted(set(checked))
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        selected = re.search(r'<option[^>]*selected[^>]*value="([^"]*)"|'
                             r'<option[^>]*value="([^"]*)"[^>]*selected', body)
        form[name] = (selected.group(1) or selected.group(2)) if selected else ""
    form["holidays"] = re.search(r'<textarea[^>]*name="holidays"[^>]*>(.*?)</textarea>',
                                 html, re.S).group(1).strip()
    return form


# --- closing stops the clocks ----------------------------------------------------------------

def stopped_at(app, **where) -> dict:
    from fieldapp.extensions import db
    from fieldapp.models import SlaClock

    with app.app_context():
        return {c.name: c.stopped_at for c in db.session.query(SlaClock).filter_by(**where)}


def test_cancelling_stops_a_jobs_clocks_and_clears_it_from_the_breaches(app, api, demo, clock):
    job = new_job(api)
    desk = Desk(app, "dispatcher1")
    clock.advance(minutes=10)  # first contact now overdue
    overdue = desk.html("/dispatch/breaches").split("Overdue now")[1].split("About to break")[0]
    assert job["ref"] in overdue
    assert api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "status": "cancelled", "reason": "顾客取消"}).status_code == 200
    assert stopped_at(app, job_id=job["id"]) == {
        "first_contact": sh(2026, 11, 24, 9, 10), "response": sh(2026, 11, 24, 9, 10),
        "resolution": sh(2026, 11, 24, 9, 10)}
    overdue = desk.html("/dispatch/breaches").split("Overdue now")[1].split("About to break")[0]
    assert job["ref"] not in overdue
    # On record the late first contact stays a breach; the page says it no longer runs.
    assert clocks(api, job["id"])["first_contact"]["state"] == "breached"
    # The late first contact reads as missed (history), the two others as stopped.
    page = desk.html(f"/dispatch/jobs/{job['id']}")
    assert page.count("sla lvl-stopped") == 2 and page.count("sla lvl-missed") == 1


def test_a_met_clock_is_not_stopped_again(app, api, demo, clock):
    job = new_job(api)
    contact(api, job["id"], "reached")
    api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "status": "cancelled", "reason": "重复登记"})
    got = stopped_at(app, job_id=job["id"])
    assert got["first_contact"] is None and got["response"] is not None


def test_closing_a_complaint_stops_its_clocks(app, api, demo, clock):
    c = complaint(api)  # major: escalation and coordination
    api.patch(f"/api/v1/complaints/{c['id']}", as_="dispatcher1",
              json={"status": "resolved", "note": "已道歉并上门处理"})  # meets coordination
    clock.advance(hours=2)
    api.patch(f"/api/v1/complaints/{c['id']}", as_="dispatcher1",
              json={"status": "closed", "customer_satisfied": True})
    got = stopped_at(app, complaint_id=c["id"])
    assert got == {"escalation": sh(2026, 11, 24, 11, 0), "coordination": None}

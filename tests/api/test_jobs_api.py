"""Jobs over the API: intake with SLA clocks, customers, the list, dispatcher changes,
the contact log and the supervisor's review."""
import uuid
from datetime import timedelta

import pytest

from tests.support.helpers import T0, complete_job, intake_body, sync_push

SH_TOMORROW_10 = "2026-11-25T10:00:00+08:00"   # 02:00Z
SH_TOMORROW_12 = "2026-11-25T12:00:00+08:00"


def assert_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body is not None and set(body) == {"error", "message", "details"}, body
    assert isinstance(body["details"], dict)
    if code is not None:
        assert body["error"] == code, body
    return body


def create(api, as_="dispatcher1", **overrides):
    response = api.post("/api/v1/jobs", as_=as_, json=intake_body(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def get(api, job_id, as_="dispatcher1"):
    response = api.get(f"/api/v1/jobs/{job_id}", as_=as_)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def patch(api, job_id, as_="dispatcher1", **body):
    return api.patch(f"/api/v1/jobs/{job_id}", as_=as_, json=body)


def clocks(job):
    return {c["name"]: c for c in job["sla"]}


def tech_jobs(api, demo, tech="tech1"):
    """The demo jobs of `tech`, by type (the first of each type)."""
    response = api.get(f"/api/v1/jobs?technician_id={demo[tech]}", as_="dispatcher1")
    out = {}
    for job in response.get_json()["items"]:
        out.setdefault(job["type"], job)
    return out


def scheduled_job(api, demo, tech="tech1", **overrides):
    return create(api, technician_id=demo[tech], scheduled_start=SH_TOMORROW_10,
                  scheduled_end=SH_TOMORROW_12, **overrides)


# --- intake --------------------------------------------------------------------------------

def test_intake_answers_201_with_the_job(api, demo):
    response = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body())
    assert response.status_code == 201
    job = response.get_json()
    assert str(uuid.UUID(job["id"])) == job["id"]
    assert job["ref"].startswith("FA261124-")
    assert job["status"] == "new"
    assert job["technician_id"] is None
    assert job["type"] == "repair" and job["channel"] == "phone" and job["priority"] == "normal"
    assert job["customer"]["name"] == "陈女士"
    assert job["customer"]["phone"] == "13912340001"
    assert response.headers["Location"].endswith(f"/api/v1/jobs/{job['id']}")
    templates = api.get("/api/v1/sync/pull", as_="tech1").get_json()["changes"][
        "checklist_templates"]
    repair = [t for t in templates if t["job_type"] == "repair"]
    assert job["checklist_template_id"] == max(repair, key=lambda t: t["version"])["id"]
    assert [c["name"] for c in job["sla"]] == ["first_contact", "response", "resolution"]
    for clock in job["sla"]:
        assert set(clock) == {"name", "due_at", "met_at", "state"}
        assert clock["state"] == "running" and clock["met_at"] is None
    assert get(api, job["id"]) == {**job, "updated_at": job["updated_at"]}


def test_refs_are_unique_and_human(api, demo):
    refs = [create(api)["ref"] for _ in range(3)]
    assert len(set(refs)) == 3
    assert all(len(r) <= 20 for r in refs)


@pytest.mark.parametrize("job_type,resolution_due", [
    ("repair", "2026-11-27T01:00:00Z"),        # 3 working days: Friday 09:00 Shanghai
    ("inspection", "2026-11-27T01:00:00Z"),
    ("delivery", "2026-11-26T01:00:00Z"),      # 48 hours
    ("installation", "2026-11-26T01:00:00Z"),
])
def test_sla_due_times_per_policy(api, demo, job_type, resolution_due):
    # Intake Tuesday 09:00 Shanghai (01:00Z).
    sla = clocks(create(api, type=job_type))
    assert sla["first_contact"]["due_at"] == "2026-11-24T01:05:00Z"  # 5 working minutes
    assert sla["response"]["due_at"] == "2026-11-25T01:00:00Z"       # 24 hours
    assert sla["resolution"]["due_at"] == resolution_due


def test_first_contact_after_hours_due_next_working_morning(api, demo, clock):
    clock.set(T0 + timedelta(days=3, hours=14))  # Friday 23:00 Shanghai
    sla = clocks(create(api, type="repair"))
    assert sla["first_contact"]["due_at"] == "2026-11-30T01:05:00Z"  # Monday 09:05
    assert sla["resolution"]["due_at"] == "2026-12-02T15:00:00Z"     # Wednesday 23:00
    assert sla["response"]["due_at"] == "2026-11-28T15:00:00Z"


def test_sla_state_moves_with_the_clock(api, demo, clock):
    job = create(api)
    clock.advance(minutes=6)
    sla = clocks(get(api, job["id"]))
    assert sla["first_contact"]["state"] == "breached"
    assert sla["response"]["state"] == "running"


def test_intake_with_technician_and_time_is_scheduled(api, demo):
    job = scheduled_job(api, demo)
    assert job["status"] == "scheduled"
    assert job["technician_id"] == demo["tech1"]
    assert job["scheduled_start"] == "2026-11-25T02:00:00Z"
    assert clocks(job)["response"]["state"] == "met"
    assert [e["type"] for e in job["events"]] == ["created", "assigned"]


def test_intake_with_technician_needs_schedule(api, demo, app):
    before = _count(app, "Job")
    response = api.post("/api/v1/jobs", as_="dispatcher1",
                        json=intake_body(technician_id=demo["tech1"]))
    assert_error(response, 422, "schedule_required")
    assert _count(app, "Job") == before


def test_intake_refuses_a_non_technician_assignee(api, demo):
    response = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body(
        technician_id=demo["dispatcher1"], scheduled_start=SH_TOMORROW_10))
    assert_error(response, 422, "unknown_technician")


# --- customers -----------------------------------------------------------------------------

def _count(app, model_name):
    from fieldapp import models
    from fieldapp.extensions import db

    with app.app_context():
        return db.session.query(getattr(models, model_name)).count()


def test_returning_customer_same_id_whatever_the_formatting(api, demo, app):
    customers = _count(app, "Customer")
    first = create(api, customer={"name": "Ms Chen", "phone": "135-0000-1111",
                                  "address": "A road 1"})
    second = create(api, customer={"name": "Ms Chen", "phone": "13500001111",
                                   "address": "A road 1"})
    third = create(api, customer={"name": "Ms Chen", "phone": "+86 135 0000 1111",
                                  "address": "B road 2"})
    assert first["customer"]["id"] == second["customer"]["id"] == third["customer"]["id"]
    assert _count(app, "Customer") == customers + 1
    other = create(api, customer={"name": "Mr Liu", "phone": "13500002222",
                                  "address": "A road 1"})
    assert other["customer"]["id"] != first["customer"]["id"]
    assert _count(app, "Customer") == customers + 2


def test_demo_customer_recognised_by_plain_digits(api, demo):
    # The demo seeds 陈女士 as "139-1234-0001"; the form types "13912340001".
    demo_job = [j for j in api.get("/api/v1/jobs", as_="dispatcher1").get_json()["items"]
                if j["customer"]["phone"] == "139-1234-0001"][0]
    job = create(api)  # intake_body uses 13912340001
    assert job["customer"]["id"] == demo_job["customer"]["id"]


# --- the list ------------------------------------------------------------------------------

def test_list_filters(api, demo):
    from fieldapp.seed import DEMO_JOBS

    def listed(query=""):
        response = api.get(f"/api/v1/jobs{query}", as_="dispatcher1")
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]

    all_jobs = api.get("/api/v1/jobs", as_="dispatcher1").get_json()
    assert all_jobs["total"] == len(all_jobs["items"]) == len(DEMO_JOBS)
    unassigned = [d for d in DEMO_JOBS if d[7] is None]
    new = listed("?status=new")
    assert len(new) == len(unassigned) > 0 and all(j["status"] == "new" for j in new)
    assert {j["technician_id"] for j in new} == {None}
    mine = listed(f"?technician_id={demo['tech1']}")
    assert len(mine) == len([d for d in DEMO_JOBS if d[7] == "tech1"])
    assert all(j["technician_id"] == demo["tech1"] for j in mine)
    assert {j["type"] for j in mine} == {"delivery", "installation", "repair", "inspection"}
    today = listed("?date=2026-11-24")
    assert len(today) == len(DEMO_JOBS) - len(unassigned)
    assert all(j["scheduled_start"].startswith("2026-11-24") for j in today)
    assert listed("?date=2026-11-25") == []
    created = scheduled_job(api, demo, tech="tech2")
    assert [j["id"] for j in listed("?date=2026-11-25")] == [created["id"]]
    both = listed(f"?date=2026-11-24&technician_id={demo['tech2']}&status=scheduled")
    assert len(both) == len([d for d in DEMO_JOBS if d[7] == "tech2"])
    assert all(j["technician_id"] == demo["tech2"] and j["status"] == "scheduled"
               for j in both)
    assert listed(f"?status=completed&technician_id={demo['tech1']}") == []


@pytest.mark.parametrize("query", ["?status=done", "?date=tomorrow", "?date=2026-02-30",
                                   "?technician_id=abc", "?limit=0"])
def test_list_refuses_bad_filters(api, demo, query):
    assert_error(api.get(f"/api/v1/jobs{query}", as_="dispatcher1"), 422, "validation_error")


def test_date_filter_uses_shanghai_days(api, demo):
    # 23:30 Shanghai on the 25th is 15:30Z on the 25th; 00:30 on the 26th is 16:30Z on the 25th.
    late = create(api, technician_id=demo["tech2"], scheduled_start="2026-11-25T23:30:00+08:00")
    early = create(api, technician_id=demo["tech2"],
                   scheduled_start="2026-11-26T00:30:00+08:00")
    on_25 = {j["id"] for j in api.get("/api/v1/jobs?date=2026-11-25",
                                      as_="dispatcher1").get_json()["items"]}
    on_26 = {j["id"] for j in api.get("/api/v1/jobs?date=2026-11-26",
                                      as_="dispatcher1").get_json()["items"]}
    assert on_25 == {late["id"]} and on_26 == {early["id"]}


def test_technician_lists_only_own_jobs(api, demo):
    for tech in ("tech1", "tech2"):
        items = api.get("/api/v1/jobs", as_=tech).get_json()["items"]
        assert items and all(j["technician_id"] == demo[tech] for j in items)
    # Even asking for another technician's jobs gives only their own (here: none).
    items = api.get(f"/api/v1/jobs?technician_id={demo['tech2']}", as_="tech1").get_json()
    assert items["items"] == [] and items["total"] == 0


def test_technician_get_of_another_technicians_job_is_404(api, demo):
    theirs = tech_jobs(api, demo, "tech2")["repair"]
    assert_error(api.get(f"/api/v1/jobs/{theirs['id']}", as_="tech1"), 404, "job_not_found")
    unassigned = api.get("/api/v1/jobs?status=new", as_="dispatcher1").get_json()["items"][0]
    assert_error(api.get(f"/api/v1/jobs/{unassigned['id']}", as_="tech1"), 404,
                 "job_not_found")
    assert get(api, tech_jobs(api, demo)["repair"]["id"], as_="tech1")["technician_id"] == \
        demo["tech1"]


# A stable id for the random one: pytest-xdist's workers must collect the same names.
@pytest.mark.parametrize("job_id", [pytest.param(str(uuid.uuid4()), id="random-uuid"),
                                    "not-a-uuid", "1", "x" * 36, "' OR 1=1 --"])
@pytest.mark.parametrize("who", ["dispatcher1", "tech1"])
def test_nonexistent_job_404(api, demo, job_id, who):
    assert_error(api.get(f"/api/v1/jobs/{job_id}", as_=who), 404)


# --- dispatcher changes --------------------------------------------------------------------

def test_assign_needs_scheduled_start(api, demo, app):
    job = create(api)
    events = len(get(api, job["id"])["events"])
    assert_error(patch(api, job["id"], technician_id=demo["tech1"]), 422, "schedule_required")
    after = get(api, job["id"])
    assert after["technician_id"] is None and after["status"] == "new"
    assert len(after["events"]) == events


def test_assign(api, demo):
    job = create(api)
    response = patch(api, job["id"], technician_id=demo["tech1"],
                     scheduled_start=SH_TOMORROW_10, scheduled_end=SH_TOMORROW_12)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "scheduled"
    assert body["technician_id"] == demo["tech1"]
    assert body["scheduled_start"] == "2026-11-25T02:00:00Z"
    assert body["scheduled_end"] == "2026-11-25T04:00:00Z"
    assert clocks(body)["response"]["state"] == "met"
    assert get(api, job["id"], as_="tech1")["id"] == job["id"]
    pulled = api.get("/api/v1/sync/pull", as_="tech1").get_json()
    assert job["id"] in [j["id"] for j in pulled["changes"]["jobs"]]


def test_assign_refuses_unknown_technician(api, demo):
    job = create(api)
    for bad in (demo["supervisor1"], 999999):
        assert_error(patch(api, job["id"], technician_id=bad, scheduled_start=SH_TOMORROW_10),
                     422, "unknown_technician")
    assert get(api, job["id"])["status"] == "new"


def test_an_id_out_of_the_databases_range_is_a_field_error(api, demo):
    """PostgreSQL's INTEGER ends at 2**31 - 1: a bigger (or non-positive) id is refused by
    the schema, naming the field, on both databases, and never reaches a query."""
    job = create(api)
    for bad in (2**31, -3603867877, 0):
        body = assert_error(patch(api, job["id"], technician_id=bad,
                                  scheduled_start=SH_TOMORROW_10), 422, "validation_error")
        assert "technician_id" in str(body["details"]), body
    assert_error(api.get(f"/api/v1/jobs?technician_id={2**40}", as_="dispatcher1"), 422,
                 "validation_error")
    complaint = {"about": "service", "content": "x", "severity": "general",
                 "about_technician_id": 9133734164, "job_id": job["id"]}
    assert_error(api.post("/api/v1/complaints", as_="dispatcher1", json=complaint),
                 422, "validation_error")
    assert get(api, job["id"])["status"] == "new"


def test_reassign_takes_the_job_from_the_old_technician(api, demo):
    job = tech_jobs(api, demo)["repair"]
    cursor = api.get("/api/v1/sync/pull", as_="tech1").get_json()["cursor"]
    response = patch(api, job["id"], technician_id=demo["tech2"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["technician_id"] == demo["tech2"]
    assert response.get_json()["status"] == "scheduled"
    assert_error(api.get(f"/api/v1/jobs/{job['id']}", as_="tech1"), 404, "job_not_found")
    assert job["id"] not in [j["id"] for j in api.get("/api/v1/jobs", as_="tech1").get_json()[
        "items"]]
    pulled = api.get(f"/api/v1/sync/pull?cursor={cursor}", as_="tech1").get_json()
    assert job["id"] in pulled["removed"]["jobs"]
    assert get(api, job["id"], as_="tech2")["technician_id"] == demo["tech2"]
    types = [e["type"] for e in get(api, job["id"])["events"]]
    assert types[-1] == "assigned"
    assigned = get(api, job["id"])["events"][-1]["data"]
    assert assigned["from_technician_id"] == demo["tech1"]
    assert assigned["to_technician_id"] == demo["tech2"]


def test_unassign(api, demo):
    job = tech_jobs(api, demo)["delivery"]
    body = patch(api, job["id"], technician_id=None).get_json()
    assert body["technician_id"] is None and body["status"] == "new"
    assert_error(api.get(f"/api/v1/jobs/{job['id']}", as_="tech1"), 404)


def test_reschedule(api, demo):
    job = tech_jobs(api, demo)["installation"]
    response = patch(api, job["id"], scheduled_start="2026-11-26T14:00:00+08:00",
                     scheduled_end="2026-11-26T16:00:00+08:00")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["scheduled_start"] == "2026-11-26T06:00:00Z"
    assert body["scheduled_end"] == "2026-11-26T08:00:00Z"
    assert body["technician_id"] == demo["tech1"] and body["status"] == "scheduled"
    event = get(api, job["id"])["events"][-1]
    assert event["type"] == "rescheduled"
    assert event["data"]["to"] == ["2026-11-26T06:00:00Z", "2026-11-26T08:00:00Z"]
    assert event["data"]["from"] == [job["scheduled_start"], job["scheduled_end"]]


def test_reschedule_refuses_end_before_start(api, demo):
    job = tech_jobs(api, demo)["installation"]
    assert_error(patch(api, job["id"], scheduled_start="2026-11-26T14:00:00+08:00",
                       scheduled_end="2026-11-26T13:00:00+08:00"), 422, "bad_schedule")
    assert get(api, job["id"])["scheduled_start"] == job["scheduled_start"]


def test_unsuccessful_job_is_rescheduled(api, demo):
    job = tech_jobs(api, demo)["repair"]
    pushed = sync_push(api, "tech1", [("job.status", job["id"], {"status": "en_route"}),
                                      ("job.status", job["id"], {"status": "unsuccessful",
                                                                 "reason": "顾客不在家"})])
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied", "applied"]
    assert get(api, job["id"])["status"] == "unsuccessful"
    # Moving only the start past the old end is refused (the window would be backwards).
    assert_error(patch(api, job["id"], scheduled_start=SH_TOMORROW_10), 422, "bad_schedule")
    body = patch(api, job["id"], scheduled_start=SH_TOMORROW_10,
                 scheduled_end=SH_TOMORROW_12).get_json()
    assert body["status"] == "scheduled" and body["technician_id"] == demo["tech1"]
    events = get(api, job["id"])["events"]
    assert [e["type"] for e in events[-2:]] == ["rescheduled", "status"]
    assert events[-1]["data"] == {"from": "unsuccessful", "to": "scheduled"}


def test_cancel_with_reason(api, demo):
    job = tech_jobs(api, demo)["repair"]
    response = patch(api, job["id"], status="cancelled", reason="顾客取消")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "cancelled" and body["status_reason"] == "顾客取消"
    event = get(api, job["id"])["events"][-1]
    assert event["type"] == "status"
    assert event["data"] == {"from": "scheduled", "to": "cancelled", "reason": "顾客取消"}
    # Cancelled before work started: off the technician's phone.
    pulled = api.get("/api/v1/sync/pull", as_="tech1").get_json()
    assert job["id"] in pulled["removed"]["jobs"]
    assert job["id"] not in [j["id"] for j in pulled["changes"]["jobs"]]


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_cancel_without_reason_changes_nothing(api, demo, reason):
    job = tech_jobs(api, demo)["repair"]
    before = get(api, job["id"])
    body = {"status": "cancelled"} if reason is None else {"status": "cancelled",
                                                            "reason": reason}
    assert_error(patch(api, job["id"], **body), 422, "reason_required")
    after = get(api, job["id"])
    assert after["status"] == "scheduled"
    assert after["events"] == before["events"]
    assert after["updated_at"] == before["updated_at"]


def test_cancel_with_other_changes_refused(api, demo):
    job = tech_jobs(api, demo)["repair"]
    assert_error(patch(api, job["id"], status="cancelled", reason="x",
                       technician_id=demo["tech2"]), 422, "cancel_alone")
    assert get(api, job["id"])["status"] == "scheduled"


def test_other_status_not_patchable(api, demo):
    job = tech_jobs(api, demo)["repair"]
    response = patch(api, job["id"], status="approved")
    assert_error(response, 422)
    assert get(api, job["id"])["status"] == "scheduled"


def test_cancel_of_completed_and_approved_refused(api, demo):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    assert_error(patch(api, job["id"], status="cancelled", reason="x"), 409, "job_closed")
    assert get(api, job["id"])["status"] == "completed"
    review = api.post(f"/api/v1/jobs/{job['id']}/review", as_="supervisor1",
                      json={"decision": "approve"})
    assert review.status_code == 200, review.get_json()
    assert_error(patch(api, job["id"], status="cancelled", reason="x"), 409, "job_closed")
    assert_error(patch(api, job["id"], technician_id=demo["tech2"]), 409, "job_closed")
    assert_error(patch(api, job["id"], scheduled_start=SH_TOMORROW_10), 409, "job_closed")
    assert get(api, job["id"])["status"] == "approved"


def test_cancelled_job_is_closed(api, demo):
    job = create(api)
    patch(api, job["id"], status="cancelled", reason="duplicate intake")
    assert_error(patch(api, job["id"], status="cancelled", reason="again"), 409, "job_closed")
    assert_error(patch(api, job["id"], technician_id=demo["tech1"],
                       scheduled_start=SH_TOMORROW_10), 409, "job_closed")


def test_cancel_after_work_started_stays_on_the_phone(api, demo):
    job = tech_jobs(api, demo)["repair"]
    sync_push(api, "tech1", [("job.status", job["id"], {"status": "on_site"})])
    cursor = api.get("/api/v1/sync/pull", as_="tech1").get_json()["cursor"]
    # On site: cancelling is deliberate (the override; tests/api/test_deliberate_decisions.py).
    patch(api, job["id"], status="cancelled", reason="顾客改期", override=True)
    pulled = api.get(f"/api/v1/sync/pull?cursor={cursor}", as_="tech1").get_json()
    assert [j["status"] for j in pulled["changes"]["jobs"] if j["id"] == job["id"]] == [
        "cancelled"]
    assert job["id"] not in pulled["removed"]["jobs"]


# --- contact log ---------------------------------------------------------------------------

def test_contact_reached_meets_first_contact(api, demo, clock):
    job = create(api)
    clock.advance(minutes=3)
    response = api.post(f"/api/v1/jobs/{job['id']}/contact", as_="dispatcher1",
                        json={"outcome": "reached", "note": "约好明天上午"})
    assert response.status_code == 201, response.get_json()
    first = clocks(response.get_json())["first_contact"]
    assert first["state"] == "met" and first["met_at"] == "2026-11-24T01:03:00Z"
    clock.advance(hours=1)
    assert clocks(get(api, job["id"]))["first_contact"]["state"] == "met"


def test_contact_not_reached_leaves_the_clock_running(api, demo, clock):
    job = create(api)
    for outcome in ("no_answer", "busy", "left_message", "wrong_number"):
        response = api.post(f"/api/v1/jobs/{job['id']}/contact", as_="dispatcher1",
                            json={"outcome": outcome})
        assert response.status_code == 201
        assert clocks(response.get_json())["first_contact"]["state"] == "running"
    events = [e for e in get(api, job["id"])["events"] if e["type"] == "contact"]
    assert [e["data"]["outcome"] for e in events] == ["no_answer", "busy", "left_message",
                                                      "wrong_number"]


def test_late_contact_is_breached(api, demo, clock):
    job = create(api)
    clock.advance(minutes=20)
    body = api.post(f"/api/v1/jobs/{job['id']}/contact", as_="admin",
                    json={"outcome": "reached"}).get_json()
    first = clocks(body)["first_contact"]
    assert first["met_at"] == "2026-11-24T01:20:00Z" and first["state"] == "breached"


def test_second_reached_contact_keeps_the_first_met_time(api, demo, clock):
    job = create(api)
    api.post(f"/api/v1/jobs/{job['id']}/contact", as_="dispatcher1", json={"outcome": "reached"})
    clock.advance(minutes=30)
    body = api.post(f"/api/v1/jobs/{job['id']}/contact", as_="dispatcher1",
                    json={"outcome": "reached"}).get_json()
    assert clocks(body)["first_contact"]["met_at"] == "2026-11-24T01:00:00Z"


# --- review --------------------------------------------------------------------------------

def review(api, job_id, as_="supervisor1", **body):
    return api.post(f"/api/v1/jobs/{job_id}/review", as_=as_, json=body)


@pytest.mark.parametrize("who", ["dispatcher1", "tech1", "tech2"])
def test_review_only_supervisor_or_admin(api, demo, who):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    assert_error(review(api, job["id"], as_=who, decision="approve"), 403, "forbidden")
    assert get(api, job["id"])["status"] == "completed"


@pytest.mark.parametrize("who", ["supervisor1", "admin"])
def test_approve_completed_job(api, demo, who, clock):
    job = tech_jobs(api, demo)["delivery"]
    complete_job(api, job["id"])
    clock.advance(minutes=30)
    response = review(api, job["id"], as_=who, decision="approve", comment="好")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "approved"
    assert body["review"]["decision"] == "approve" and body["review"]["comment"] == "好"
    assert body["approved_at"] == "2026-11-24T01:30:00Z"
    # Locked: neither the office nor the phone changes it any more.
    assert_error(review(api, job["id"], as_=who, decision="rework", comment="x"), 409,
                 "illegal_transition")
    pushed = sync_push(api, "tech1", [("job.note", job["id"], {"text": "late"})]).get_json()
    assert pushed["results"][0]["status"] == "conflict"
    assert get(api, job["id"])["status"] == "approved"
    locked = get(api, job["id"])
    assert_error(api.post(f"/api/v1/jobs/{job['id']}/contact", as_="dispatcher1",
                          json={"outcome": "reached"}), 409, "job_closed")
    assert_error(api.post(f"/api/v1/jobs/{job['id']}/notes", as_="dispatcher1",
                          json={"text": "after sign-off"}), 409, "job_closed")
    again = get(api, job["id"])
    assert again["events"] == locked["events"] and again["updated_at"] == locked["updated_at"]
    # Approved: the technician no longer sees the customer's phone and address.
    mine = get(api, job["id"], as_="tech1")
    assert mine["customer"]["phone"] is None and mine["customer"]["address"] is None


@pytest.mark.parametrize("status_path", [[], ["en_route"], ["en_route", "on_site"],
                                         ["on_site", "in_progress"]])
def test_approve_only_from_completed(api, demo, status_path):
    job = tech_jobs(api, demo)["repair"]
    if status_path:
        sync_push(api, "tech1", [("job.status", job["id"], {"status": s}) for s in status_path])
    status = get(api, job["id"])["status"]
    body = assert_error(review(api, job["id"], decision="approve"), 409, "illegal_transition")
    assert body["details"]["from"] == status and body["details"]["to"] == "approved"
    assert "allowed" in body["details"]
    assert get(api, job["id"])["status"] == status


def test_approve_new_job_refused(api, demo):
    job = create(api)
    assert_error(review(api, job["id"], decision="approve"), 409, "illegal_transition")


@pytest.mark.parametrize("comment", [None, "", "  "])
def test_rework_requires_a_comment(api, demo, comment):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    events = len(get(api, job["id"])["events"])
    body = {"decision": "rework"} if comment is None else {"decision": "rework",
                                                            "comment": comment}
    assert_error(review(api, job["id"], **body), 422, "comment_required")
    after = get(api, job["id"])
    assert after["status"] == "completed" and len(after["events"]) == events
    assert after["review"] is None


def test_rework_sends_the_job_back(api, demo):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    response = review(api, job["id"], decision="rework", comment="照片不清楚,请重拍")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "rework"
    assert response.get_json()["review"]["comment"] == "照片不清楚,请重拍"
    mine = get(api, job["id"], as_="tech1")
    assert mine["status"] == "rework" and mine["status_reason"] == "照片不清楚,请重拍"
    # The technician takes it up again and completes it once more.
    complete_job(api, job["id"], seed=7)
    assert review(api, job["id"], decision="approve").get_json()["status"] == "approved"


def test_completion_refused_until_checklist_and_signature(api, demo):
    job = tech_jobs(api, demo)["repair"]
    pushed = sync_push(api, "tech1", [
        ("job.status", job["id"], {"status": "on_site"}),
        ("job.status", job["id"], {"status": "in_progress"}),
        ("job.status", job["id"], {"status": "completed"})]).get_json()
    assert [r["status"] for r in pushed["results"]] == ["applied", "applied", "rejected"]
    refused = pushed["results"][2]
    assert refused["reason"] == "checklist_incomplete"
    unmet = [u["item_key"] for u in refused["details"]["unmet"]]
    assert "customer_signature" == unmet[-1] and "repair_result" in unmet
    assert get(api, job["id"])["status"] == "in_progress"

"""Intake through the registration form (售后问题登记表): every field of the contract's intake,
fault symptoms kept with the problem, a message per wrong field and nothing stored, and a
returning customer recognised by phone with their history."""
import pytest

from tests.support.deskkit import Desk, intake_form, job_id_from, sh, z


def counts(app):
    from fieldapp.extensions import db
    from fieldapp.models import Customer, Job, JobEvent, SlaClock

    with app.app_context():
        return {m.__name__: db.session.query(m).count()
                for m in (Job, Customer, JobEvent, SlaClock)}


def test_intake_registers_a_job_with_every_field(app, api, demo, clock):
    desk = Desk(app, "dispatcher1")
    response = desk.post("/dispatch/intake", data=intake_form(
        type="installation", channel="store", priority="urgent",
        technician_id=str(demo["tech2"]), day="2026-11-25", start="14:00", end="16:00"))
    assert response.status_code == 302
    job = api.get(f"/api/v1/jobs/{job_id_from(response)}", as_="dispatcher1").get_json()
    assert job["type"] == "installation" and job["channel"] == "store"
    assert job["priority"] == "urgent" and job["status"] == "scheduled"
    assert job["customer"] == {"id": job["customer"]["id"], "name": "陈女士",
                               "phone": "139-1234-9001",
                               "address": "上海市浦东新区锦绣路 1001 弄 12 号"}
    assert job["product_model"] == "布艺沙发 SF-3S"
    assert job["problem"] == "扶手松动\nFault symptoms: 坐下时有异响，上周开始"
    assert job["technician_id"] == demo["tech2"]
    assert job["scheduled_start"] == z(sh(2026, 11, 25, 14))
    assert job["scheduled_end"] == z(sh(2026, 11, 25, 16))
    assert {c["name"] for c in job["sla"]} == {"first_contact", "response", "resolution"}
    assert job["ref"].startswith("FA261124-")
    # The next page is the job, telling the dispatcher to phone now.
    page = desk.html(response.headers["Location"])
    assert job["ref"] in page and "first-contact clock is running" in page


def test_symptoms_in_chinese_ui_use_the_users_word(app, api, demo):
    desk = Desk(app, "dispatcher1", lang="zh_CN")
    response = desk.post("/dispatch/intake", data=intake_form())
    job = api.get(f"/api/v1/jobs/{job_id_from(response)}", as_="dispatcher1").get_json()
    assert job["problem"] == "扶手松动\n故障现象: 坐下时有异响，上周开始"


@pytest.mark.parametrize("changes,field,message", [
    ({"name": ""}, "name", "Enter the customer's name."),
    ({"phone": ""}, "phone", "Enter the customer's phone number."),
    ({"phone": "12-34"}, "phone", "at least 7 digits"),
    ({"address": "  "}, "address", "Enter the address of the visit."),
    ({"product_model": ""}, "product_model", "Enter the product model."),
    ({"problem": ""}, "problem", "Describe the problem."),
    ({"type": "painting"}, "type", "Not a valid choice"),
    ({"channel": "fax"}, "channel", "Not a valid choice"),
    ({"technician_id": "2", "day": "2026-11-25"}, "start", "Needed to assign a technician."),
    ({"day": "2026-11-25", "start": "14:00", "end": "13:00"}, "end",
     "The end must be after the start."),
    ({"day": "not-a-date", "start": "14:00"}, "day", "Not a valid date value."),
])
def test_a_wrong_field_is_named_and_nothing_is_stored(app, demo, changes, field, message):
    desk = Desk(app, "dispatcher1")
    before = counts(app)
    response = desk.post("/dispatch/intake", data=intake_form(**changes))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Nothing was saved" in html and message in html
    # The message sits in the wrong field's own label.
    label = html.split(f'name="{field}"')[0].rsplit("<label", 1)[1] + \
        html.split(f'name="{field}"')[1].split("</label>")[0]
    assert message in label, label
    assert counts(app) == before
    # What was typed stays in the form.
    assert "扶手松动" in html or changes.get("problem") == ""


def test_a_refusal_from_the_rules_is_shown_on_its_field(app, demo):
    desk = Desk(app, "dispatcher1")
    before = counts(app)
    response = desk.post("/dispatch/intake", data=intake_form(
        technician_id=str(demo["dispatcher1"]), day="2026-11-25", start="10:00"))
    assert response.status_code == 400
    assert "No active technician with this id." in response.get_data(as_text=True)
    assert counts(app) == before


def test_returning_customer_is_recognised_by_phone_with_history(app, api, demo):
    desk = Desk(app, "dispatcher1")
    # 周女士 has the demo's urgent repair; she also complained once.
    api.post("/api/v1/complaints", as_="dispatcher1", json={
        "customer": {"name": "周女士", "phone": "139 1234 0003"}, "about": "service",
        "content": "上次维修后又坏了", "severity": "general"})
    for typed in ("13912340003", "139-1234-0003", "+86 139 1234 0003"):
        found = desk.get(f"/dispatch/customers/lookup?phone={typed}").get_json()
        assert found["found"] is True, typed
        assert found["customer"]["name"] == "周女士"
        assert found["customer"]["address"].startswith("上海市静安区")
        assert [j["product_model"] for j in found["jobs"]] == ["布艺沙发 SF-3S"]
        assert found["jobs"][0]["url"].startswith("/dispatch/jobs/")
        assert [c["content"] for c in found["complaints"]] == ["上次维修后又坏了"]
    assert desk.get("/dispatch/customers/lookup?phone=13700000000").get_json() == {"found": False}
    assert desk.get("/dispatch/customers/lookup?phone=12").get_json() == {"found": False}


def test_a_second_intake_for_the_same_phone_joins_the_same_customer(app, api, demo):
    desk = Desk(app, "dispatcher1")
    first = job_id_from(desk.post("/dispatch/intake", data=intake_form()))
    second = job_id_from(desk.post("/dispatch/intake", data=intake_form(
        phone="13912349001", problem="坐垫塌陷", symptoms="")))
    one = api.get(f"/api/v1/jobs/{first}", as_="dispatcher1").get_json()
    two = api.get(f"/api/v1/jobs/{second}", as_="dispatcher1").get_json()
    assert one["customer"]["id"] == two["customer"]["id"]
    assert two["problem"] == "坐垫塌陷"
    history = desk.get("/dispatch/customers/lookup?phone=139-1234-9001").get_json()
    assert history["job_total"] == 2


def test_the_intake_page_carries_its_script_and_no_inline_code(app, demo):
    html = Desk(app, "dispatcher1").html("/dispatch/intake")
    assert '<script type="module" src="/static/dispatch/intake.js">' in html
    assert "<script>" not in html and "style=" not in html and " onclick" not in html
    assert 'data-lookup="/dispatch/customers/lookup"' in html

"""Complaints, by the contract (POST/GET/PATCH /api/v1/complaints) and through the pages:
classification, escalation to a supervisor, each contact logged, open until the customer is
satisfied, a return-visit job spawned with a link both ways, evidence kept in the blob store."""
import io

import pytest

from tests.support.deskkit import Desk, job_id_from, sh, z
from tests.support.helpers import jpeg_bytes

STATUSES = ["open", "escalated", "in_progress", "resolved", "closed"]


def create(api, **body):
    data = {"customer": {"name": "周女士", "phone": "13912340003"}, "about": "technician",
            "content": "师傅迟到两小时", "severity": "general", **body}
    response = api.post("/api/v1/complaints", as_="dispatcher1", json=data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def patch(api, cid, **body):
    return api.patch(f"/api/v1/complaints/{cid}", as_="dispatcher1", json=body)


def test_intake_answers_the_contract_shape(api, demo):
    response = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "customer": {"name": "周女士", "phone": "139-1234-0003"}, "about": "product",
        "content": "沙发又松了", "severity": "major"})
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/complaints/{body['id']}")
    assert len(body["id"]) == 36 and body["status"] == "open"
    assert body["ref"].startswith("TS261124-")
    for clock in body["sla"]:
        assert set(clock) == {"name", "due_at", "met_at", "state"}
    assert body["customer"]["name"] == "周女士"
    # The complainant is the known customer (recognised by phone).
    jobs = api.get("/api/v1/jobs", as_="dispatcher1").get_json()["items"]
    zhou = [j for j in jobs if j["customer"]["name"] == "周女士"][0]
    assert body["customer"]["id"] == zhou["customer"]["id"]
    assert [e["type"] for e in body["events"]] == ["created"]


def test_a_complaint_about_a_job_takes_the_complainant_and_technician_from_it(api, demo):
    jobs = api.get("/api/v1/jobs", as_="dispatcher1").get_json()["items"]
    job = [j for j in jobs if j["technician_id"] == demo["tech1"]][0]
    body = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "job_id": job["id"], "about": "technician", "content": "没有穿鞋套",
        "severity": "general"}).get_json()
    assert body["job_id"] == job["id"]
    assert body["customer"]["name"] == job["customer"]["name"]
    assert body["about_technician_id"] == demo["tech1"]
    trail = api.get(f"/api/v1/jobs/{job['id']}", as_="dispatcher1").get_json()["events"]
    assert trail[-1]["type"] == "complaint" and trail[-1]["data"]["ref"] == body["ref"]


@pytest.mark.parametrize("body,code", [
    ({"about": "weather"}, "validation_error"),
    ({"severity": "huge"}, "validation_error"),
    ({"content": ""}, "validation_error"),
    ({"customer": None}, "customer_required"),
    ({"job_id": "00000000-0000-4000-a000-000000000000"}, "job_not_found"),
    ({"about_technician_id": 3}, "unknown_technician"),
    ({"evidence_sha256": "ab" * 32}, "blob_missing"),
    ({"colour": "red"}, "validation_error"),
])
def test_intake_refusals(api, demo, body, code):
    data = {"customer": {"name": "周女士", "phone": "13912340003"}, "about": "technician",
            "content": "迟到", "severity": "general", **body}
    response = api.post("/api/v1/complaints", as_="dispatcher1", json=data)
    assert response.status_code in (404, 409, 422), response.get_json()
    assert response.get_json()["error"] == code
    assert api.get("/api/v1/complaints", as_="dispatcher1").get_json()["total"] == 0


def test_the_whole_life_of_a_major_complaint(api, demo, clock):
    c = create(api, severity="major")
    clock.advance(minutes=30)
    esc = patch(api, c["id"], status="escalated", note="已报赵主管",
                supervisor_id=demo["supervisor1"]).get_json()
    assert esc["status"] == "escalated" and esc["escalated_to_id"] == demo["supervisor1"]
    assert esc["escalated_at"] == z(sh(2026, 11, 24, 9, 30))
    clock.advance(hours=2)
    handling = patch(api, c["id"], status="in_progress", note="维修组明天上门").get_json()
    assert {x["name"]: x["state"] for x in handling["sla"]} == {"escalation": "met",
                                                                "coordination": "met"}
    # Resolving needs the result.
    refused = patch(api, c["id"], status="resolved")
    assert refused.status_code == 422 and refused.get_json()["error"] == "result_required"
    resolved = patch(api, c["id"], status="resolved", note="更换扶手，顾客已验收").get_json()
    assert resolved["result"] == "更换扶手，顾客已验收"
    # Closing needs the customer satisfied.
    refused = patch(api, c["id"], status="closed")
    assert refused.status_code == 409 and refused.get_json()["error"] == "customer_not_satisfied"
    contact = api.post(f"/api/v1/complaints/{c['id']}/contacts", as_="dispatcher1",
                       json={"outcome": "reached", "satisfied": False, "note": "还有异响"})
    assert contact.status_code == 201
    assert patch(api, c["id"], status="closed").status_code == 409
    reopened = patch(api, c["id"], status="in_progress", note="再派师傅").get_json()
    assert reopened["status"] == "in_progress" and reopened["customer_satisfied"] is False
    patch(api, c["id"], status="resolved", note="异响已排除")
    api.post(f"/api/v1/complaints/{c['id']}/contacts", as_="dispatcher1",
             json={"outcome": "no_answer"})
    api.post(f"/api/v1/complaints/{c['id']}/contacts", as_="dispatcher1",
             json={"outcome": "reached", "satisfied": True, "note": "满意"})
    closed = patch(api, c["id"], status="closed", note="回访满意").get_json()
    assert closed["status"] == "closed" and closed["customer_satisfied"] is True
    assert [k["outcome"] for k in closed["contacts"]] == ["reached", "no_answer", "reached"]
    assert [e["type"] for e in closed["events"]] == [
        "created", "escalated", "status", "status", "contact", "status", "status", "contact",
        "contact", "status"]
    # Closed is final.
    refused = patch(api, c["id"], note="再补充一句")
    assert refused.status_code == 409 and refused.get_json()["error"] == "complaint_closed"


def test_closing_with_the_customer_satisfied_in_the_patch(api, demo):
    c = create(api)
    patch(api, c["id"], status="resolved", note="已道歉并补偿")
    closed = patch(api, c["id"], status="closed", customer_satisfied=True)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"


@pytest.mark.parametrize("path,to,code", [
    ([], "closed", "illegal_complaint_transition"),
    (["escalated"], "open", "illegal_complaint_transition"),
    (["escalated"], "escalated", None),  # no move: nothing to change
    (["in_progress", "resolved"], "escalated", "illegal_complaint_transition"),
])
def test_status_moves_follow_the_table(api, demo, path, to, code):
    c = create(api)
    for step in path:
        assert patch(api, c["id"], status=step, note="x").status_code == 200
    response = patch(api, c["id"], status=to)
    assert response.status_code in (409, 422)
    assert response.get_json()["error"] == (code or "nothing_to_change")


def test_status_values_are_exactly_the_contracts(api, demo):
    spec = api.get("/api/v1/openapi.json").get_json()
    patch_schema = spec["components"]["schemas"]["ComplaintPatch"]["properties"]
    assert patch_schema["status"]["enum"] == STATUSES
    assert {"job_id", "customer", "about", "content", "severity"} <= set(
        spec["components"]["schemas"]["ComplaintCreate"]["properties"])
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/complaints"])
    assert {"get", "patch"} <= set(spec["paths"]["/api/v1/complaints/{complaint_id}"])


def test_list_filters_by_status(api, demo):
    a, b = create(api), create(api, severity="major")
    patch(api, b["id"], status="escalated")
    listed = api.get("/api/v1/complaints?status=escalated", as_="dispatcher1").get_json()
    assert [c["id"] for c in listed["items"]] == [b["id"]] and listed["total"] == 1
    everything = api.get("/api/v1/complaints", as_="dispatcher1").get_json()
    assert {c["id"] for c in everything["items"]} == {a["id"], b["id"]}
    bad = api.get("/api/v1/complaints?status=pending", as_="dispatcher1")
    assert bad.status_code == 422


def test_a_general_complaint_can_become_major_but_not_back(api, demo):
    c = create(api)
    assert patch(api, c["id"], severity="major").get_json()["severity"] == "major"
    refused = patch(api, c["id"], severity="general")
    assert refused.status_code == 409 and refused.get_json()["error"] == "severity_downgrade"


def test_a_return_visit_job_is_linked_both_ways(api, demo):
    jobs = api.get("/api/v1/jobs", as_="dispatcher1").get_json()["items"]
    source = [j for j in jobs if j["type"] == "repair" and j["technician_id"]][0]
    c = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "job_id": source["id"], "about": "product", "content": "修过后又坏",
        "severity": "general"}).get_json()
    response = api.post(f"/api/v1/complaints/{c['id']}/jobs", as_="dispatcher1",
                        json={"type": "repair"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    job = body["job"]
    assert job["type"] == "repair" and job["priority"] == "urgent"
    assert job["customer"]["name"] == source["customer"]["name"]
    assert job["customer"]["address"] == source["customer"]["address"]
    assert job["product_model"] == source["product_model"] and job["problem"] == "修过后又坏"
    assert body["complaint"]["jobs"] == [{"id": job["id"], "ref": job["ref"], "type": "repair",
                                          "status": "new"}]
    trail = api.get(f"/api/v1/jobs/{job['id']}", as_="dispatcher1").get_json()["events"]
    assert [e["type"] for e in trail] == ["created", "from_complaint"]
    assert trail[1]["data"] == {"complaint_id": c["id"], "ref": c["ref"]}
    bad = api.post(f"/api/v1/complaints/{c['id']}/jobs", as_="dispatcher1",
                   json={"type": "delivery"})
    assert bad.status_code == 422


# --- the pages -----------------------------------------------------------------------------

def test_complaint_pages_from_intake_to_escalation(app, api, demo, clock):
    desk = Desk(app, "dispatcher1")
    photo = io.BytesIO(jpeg_bytes(5))
    response = desk.client.post("/dispatch/complaints/new", data={
        "csrf_token": desk.token, "name": "吴先生", "phone": "139-1234-0004",
        "job_ref": "", "about": "technician",
        "about_technician_id": str(demo["tech1"]), "severity": "major",
        "content": "师傅把地板划伤了", "evidence": (photo, "scratch.jpg")},
        content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = desk.html(response.headers["Location"])
    assert "major complaint: report it to a supervisor within the hour" in page
    assert "Escalation" in page and "1 h left" in page
    cid = response.headers["Location"].rsplit("/", 1)[1]
    evidence = desk.get(f"/dispatch/complaints/{cid}/evidence")
    assert evidence.status_code == 200 and evidence.mimetype == "image/jpeg"
    assert evidence.data == jpeg_bytes(5)
    clock.advance(minutes=20)
    moved = desk.post(f"/dispatch/complaints/{cid}/move", data={
        "status": "escalated", "supervisor_id": str(demo["supervisor1"]),
        "note": "顾客情绪激动，要求赔偿"})
    assert moved.status_code == 302
    body = api.get(f"/api/v1/complaints/{cid}", as_="dispatcher1").get_json()
    assert body["status"] == "escalated" and body["escalated_to_id"] == demo["supervisor1"]
    assert {x["name"]: x["state"] for x in body["sla"]}["escalation"] == "met"
    assert body["events"][-1]["data"]["note"] == "顾客情绪激动，要求赔偿"
    page = desk.html(f"/dispatch/complaints/{cid}")
    assert "赵主管" in page and "Escalated" in page


def test_complaint_form_names_wrong_fields_and_stores_nothing(app, demo):
    desk = Desk(app, "dispatcher1")
    response = desk.post("/dispatch/complaints/new", data={
        "name": "", "phone": "123", "job_ref": "FA000000-9999", "content": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for message in ("Enter the complainant's name.", "at least 7 digits",
                    "Choose what the complaint is about.", "Classify the complaint.",
                    "Write what the complaint is about."):
        assert message in html
    assert "Nothing was saved" in html
    assert desk.get("/dispatch/complaints.csv").get_data(as_text=True).count("\n") == 1


def test_a_complaint_from_a_job_page_is_prefilled(app, api, demo):
    desk = Desk(app, "dispatcher1")
    jobs = api.get("/api/v1/jobs", as_="dispatcher1").get_json()["items"]
    job = [j for j in jobs if j["technician_id"]][0]
    page = desk.html(f"/dispatch/jobs/{job['id']}")
    assert f"/dispatch/complaints/new?job={job['id']}" in page
    form = desk.html(f"/dispatch/complaints/new?job={job['id']}")
    assert f'value="{job["ref"]}"' in form and job["customer"]["name"] in form
    response = desk.post("/dispatch/complaints/new", data={
        "name": job["customer"]["name"], "phone": job["customer"]["phone"],
        "job_ref": job["ref"].lower(), "about": "service", "severity": "general",
        "content": "预约时间一改再改"})
    assert response.status_code == 302
    cid = response.headers["Location"].rsplit("/", 1)[1]
    assert api.get(f"/api/v1/complaints/{cid}", as_="dispatcher1").get_json()["job_id"] == job["id"]
    assert "预约时间一改再改"[:10] in desk.html(f"/dispatch/jobs/{job['id']}")


def test_close_from_the_page_needs_the_box_ticked(app, api, demo):
    c = create(api)
    patch(api, c["id"], status="resolved", note="已处理")
    desk = Desk(app, "dispatcher1")
    desk.post(f"/dispatch/complaints/{c['id']}/move", data={"status": "closed"})
    assert "only when the customer is satisfied" in desk.html(f"/dispatch/complaints/{c['id']}")
    assert api.get(f"/api/v1/complaints/{c['id']}", as_="dispatcher1").get_json()["status"] == \
        "resolved"
    desk.post(f"/dispatch/complaints/{c['id']}/move", data={"status": "closed",
                                                            "customer_satisfied": "y"})
    assert api.get(f"/api/v1/complaints/{c['id']}", as_="dispatcher1").get_json()["status"] == \
        "closed"


def test_return_visit_from_the_page(app, api, demo):
    c = create(api)
    desk = Desk(app, "dispatcher1")
    response = desk.post(f"/dispatch/complaints/{c['id']}/jobs", data={
        "type": "inspection", "address": "上海市静安区延平路 135 号 5 楼", "product_model": "",
        "problem": "回访查看扶手", "technician_id": str(demo["tech2"]), "day": "2026-11-25",
        "start": "09:00", "end": "10:00"})
    assert response.status_code == 302
    job_id = job_id_from(response)
    job = api.get(f"/api/v1/jobs/{job_id}", as_="dispatcher1").get_json()
    assert job["type"] == "inspection" and job["technician_id"] == demo["tech2"]
    assert job["status"] == "scheduled"
    assert c["ref"] in desk.html(f"/dispatch/jobs/{job_id}")


def test_lists_and_csv_of_complaints(app, api, demo):
    general = create(api)
    major = create(api, severity="major", customer={"name": "何先生", "phone": "13912340008"})
    desk = Desk(app, "dispatcher1")
    html = desk.html("/dispatch/complaints?severity=major")
    assert major["ref"] in html and general["ref"] not in html
    by_phone = desk.html("/dispatch/complaints?q=13912340008")
    assert major["ref"] in by_phone and "周女士" not in by_phone
    csv = desk.get("/dispatch/complaints.csv").data.decode("utf-8")
    assert csv.startswith("\ufeff") and csv.count("TS261124-") == 2

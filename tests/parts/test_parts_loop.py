"""Issue 8 through the API and sync: parts requested on the phone, decided in the office (the
approver recorded), released only with an approval on record; a product taken back against a
signed receipt, the follow-up job made once, the product brought back on it, a second return
refused; every step in the audit trail; each role sees only what it may."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.support.helpers import T0
from tests.support.partskit import (
    Phone,
    events,
    giveback,
    job_detail,
    job_of_type,
    new_uuid,
    parts_request,
    png_bytes,
    receipt,
    statuses,
    tech_jobs,
)


def on_site(phone, job):
    return [phone.status(job["id"], s) for s in ("en_route", "on_site", "in_progress")]


def assign(api, job_id, technician_id, days=3):
    start = T0 + timedelta(days=days)
    response = api.patch(f"/api/v1/jobs/{job_id}", as_="dispatcher1", json={
        "technician_id": technician_id, "scheduled_start": start.isoformat(),
        "scheduled_end": (start + timedelta(hours=2)).isoformat()})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_whole_loop(app, api, demo, tech1, job, clock):
    job_id = job["id"]
    photo = tech1.upload(png_bytes(7))
    replacement = parts_request(tech1, job_id, photo_sha256s=[photo],
                                cause="manufacturing_defect")
    supplementary = parts_request(tech1, job_id, kind="supplementary", part_name="螺丝包 screws",
                                  quantity=1, reason="安装时发现缺少螺丝包")
    taken = receipt(tech1, job_id, receipt_no=f"{job['ref']}-T1", signer_name="陈女士")
    answer = tech1.push(on_site(tech1, job) + [replacement, supplementary, taken])
    assert set(statuses(answer).values()) == {"applied"}, answer

    # The technician's phone sees the requests (pending) and the open receipt.
    mine = job_detail(api, job_id, as_="tech1")
    assert {p["status"] for p in mine["parts_requests"]} == {"pending"}
    (tb,) = mine["takebacks"]
    assert tb["receipt_no"] == f"{job['ref']}-T1" and tb["status"] == "out"

    # The register lists it; the follow-up job exists once, unassigned, same customer.
    listed = api.get("/api/v1/takebacks?status=out", as_="dispatcher1").get_json()
    assert [i["receipt_id"] for i in listed["items"]] == [taken["args"]["receipt_id"]]
    item = listed["items"][0]
    assert item["job_id"] == job_id and item["returned_at"] is None and item["taken_at"]
    followup = job_detail(api, item["followup_job_id"])
    assert followup["type"] == "repair" and followup["status"] == "new"
    assert followup["customer"]["id"] == job["customer"]["id"]
    assert followup["product_model"] == job["product_model"]
    assert tb["receipt_no"] in followup["problem"]

    # The parts queue: supervisor approves one (cause from the phone), refuses the other.
    queue = api.get("/api/v1/parts-requests?status=pending", as_="supervisor1").get_json()
    assert {p["id"] for p in queue["items"]} == {replacement["args"]["request_id"],
                                                 supplementary["args"]["request_id"]}
    rid, sid = replacement["args"]["request_id"], supplementary["args"]["request_id"]
    ok = api.post(f"/api/v1/parts-requests/{rid}/decision", as_="supervisor1",
                  json={"decision": "approve", "reason": "质保期内"})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["status"] == "approved"
    assert ok.get_json()["decided_by"]
    no = api.post(f"/api/v1/parts-requests/{sid}/decision", as_="supervisor1",
                  json={"decision": "refuse", "reason": "随货附带，请在包装内查找"})
    assert no.status_code == 200 and no.get_json()["status"] == "refused"

    # The warehouse: the approved part leaves; the refused one does not.
    released = api.post(f"/api/v1/parts-requests/{rid}/release", as_="dispatcher1", json={})
    assert released.status_code == 200 and released.get_json()["released_at"]
    refused = api.post(f"/api/v1/parts-requests/{sid}/release", as_="dispatcher1", json={})
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "parts_not_approved"
    assert refused.get_json()["message"]

    # The repair is done: the dispatcher schedules the follow-up for tech1, who pulls it
    # with the receipt to bring back, and returns the product on it.
    clock.advance(timedelta(days=3))
    assign(api, followup["id"], demo["tech1"])
    phone_jobs = tech_jobs(tech1)
    assert followup["id"] in phone_jobs
    (open_receipt,) = phone_jobs[followup["id"]]["takebacks"]
    assert open_receipt["status"] == "out" and open_receipt["job_id"] == job_id
    back = giveback(tech1, followup["id"], open_receipt["receipt_id"], signer_name="陈女士")
    answer = tech1.push([back])
    assert statuses(answer) == {back["seq"]: "applied"}, answer

    returned = api.get("/api/v1/takebacks?status=returned", as_="dispatcher1").get_json()
    (done,) = returned["items"]
    assert done["receipt_id"] == open_receipt["receipt_id"] and done["returned_at"]
    assert done["receipt_retrieved"] is True
    assert api.get("/api/v1/takebacks?status=out", as_="dispatcher1").get_json()["total"] == 0

    # A second return of the same receipt (another signature) is refused, nothing changes.
    again = giveback(tech1, followup["id"], open_receipt["receipt_id"], seed=51)
    answer = tech1.push([again])
    (result,) = answer["results"]
    assert result["status"] == "rejected" and result["reason"] == "already_returned"
    assert job_detail(api, job_id)["takebacks"][0]["returned_at"] == done["returned_at"]

    # Every step is in the audit trail, with who did it.
    trail = events(app, job_id)
    types = [t for t, *_ in trail]
    for expected in ("parts_request", "takeback_receipt", "parts_decision", "parts_released",
                     "takeback_return"):
        assert expected in types, (expected, types)
    assert types.count("parts_request") == 2 and types.count("parts_decision") == 2
    decision = next(e for e in trail if e[0] == "parts_decision" and
                    e[1]["request_id"] == rid)
    assert decision[2] == demo["supervisor1"] and decision[3] == "supervisor"
    assert decision[1]["cause"] == "manufacturing_defect"
    release = next(e for e in trail if e[0] == "parts_released")
    assert release[2] == demo["dispatcher1"] and release[1]["approved_by_id"] == demo["supervisor1"]
    follow_trail = events(app, followup["id"])
    assert follow_trail[0][0] == "created"
    assert follow_trail[0][1]["from_receipt_id"] == open_receipt["receipt_id"]
    assert follow_trail[0][2] == demo["tech1"]
    assert "takeback_return" in [t for t, *_ in follow_trail]


def test_a_receipt_sent_again_makes_one_follow_up_job(app, api, tech1, job):
    from fieldapp.extensions import db
    from fieldapp.models import Job, Takeback

    first = receipt(tech1, job["id"])
    tech1.push(on_site(tech1, job) + [first])
    # The same receipt under a new mutation id (a phone re-registered, a replay).
    second = tech1.mutation("takeback.receipt", job["id"], first["args"])
    answer = tech1.push([second])
    assert statuses(answer) == {second["seq"]: "applied"}
    with app.app_context():
        assert db.session.execute(select(func.count(Takeback.id))).scalar() == 1
        followups = db.session.execute(select(func.count(Job.id)).where(
            Job.problem.contains(f"{job['ref']}-T1"))).scalar()
        assert followups == 1
        db.session.remove()
    assert [t for t, *_ in events(app, job["id"])].count("takeback_receipt") == 1


def test_receipt_numbers_are_unique(app, api, tech1, job):
    """Without a number (an API client) the server makes `<ref>-T<n>`; a number already
    used by another receipt keeps its printed part and gets the receipt id appended."""
    plain = receipt(tech1, job["id"], seed=2, photos=0)
    clash = receipt(tech1, job["id"], seed=3, photos=0, receipt_no=f"{job['ref']}-T1")
    tech1.push(on_site(tech1, job) + [plain, clash])
    numbers = sorted(t["receipt_no"] for t in job_detail(api, job["id"])["takebacks"])
    assert numbers[0] == f"{job['ref']}-T1"
    assert numbers[1] == f"{job['ref']}-T1-{clash['args']['receipt_id'][:4].upper()}"
    event = next(d for t, d, *_ in events(app, job["id"])
                 if t == "takeback_receipt" and d["receipt_id"] == clash["args"]["receipt_id"])
    assert event["receipt_no_requested"] == f"{job['ref']}-T1"


def test_approvals_are_enforced(api, tech1, job):
    pending = parts_request(tech1, job["id"])
    tech1.push(on_site(tech1, job) + [pending])
    rid = pending["args"]["request_id"]
    url = f"/api/v1/parts-requests/{rid}/decision"
    for who in ("tech1", "dispatcher1"):
        response = api.post(url, as_=who, json={"decision": "approve", "cause": "wear"})
        assert response.status_code == 403, who
        assert response.get_json()["error"] == "forbidden"
    # Nothing leaves the warehouse before a decision.
    response = api.post(f"/api/v1/parts-requests/{rid}/release", as_="admin", json={})
    assert response.status_code == 409 and response.get_json()["error"] == "parts_not_approved"
    # Refusing needs a reason; approving needs the cause (§9.7).
    response = api.post(url, as_="supervisor1", json={"decision": "refuse", "reason": " "})
    assert response.status_code == 422 and response.get_json()["error"] == "reason_required"
    response = api.post(url, as_="supervisor1", json={"decision": "approve"})
    assert response.status_code == 422 and response.get_json()["error"] == "cause_required"
    response = api.post(url, as_="supervisor1", json={"decision": "maybe"})
    assert response.status_code == 422
    assert api.get(f"/api/v1/parts-requests/{rid}", as_="admin").get_json()["status"] == "pending"
    response = api.post(url, as_="admin", json={"decision": "approve", "cause": "wear"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "approved" and body["cause"] == "wear" and body["decided_by"]
    again = api.post(url, as_="supervisor1", json={"decision": "refuse", "reason": "no"})
    assert again.status_code == 409 and again.get_json()["error"] == "already_decided"
    # Technicians never release; once released, not twice.
    release = f"/api/v1/parts-requests/{rid}/release"
    assert api.post(release, as_="tech1", json={}).status_code == 403
    assert api.post(release, as_="supervisor1", json={}).status_code == 200
    twice = api.post(release, as_="dispatcher1", json={})
    assert twice.status_code == 409 and twice.get_json()["error"] == "already_released"
    assert api.post("/api/v1/parts-requests/nope/decision", as_="admin",
                    json={"decision": "approve", "cause": "wear"}).status_code == 404


def test_supplementary_parts_need_a_reason(api, tech1, job):
    blank = parts_request(tech1, job["id"], kind="supplementary", reason="   ")
    missing = tech1.mutation("parts.request", job["id"], {
        "request_id": new_uuid(), "part_name": "螺丝", "quantity": 1, "kind": "supplementary"})
    bad_kind = parts_request(tech1, job["id"], kind="gift")
    bad_cause = parts_request(tech1, job["id"], cause="weather")
    answer = tech1.push([blank, missing, bad_kind, bad_cause])
    reasons = [(r["status"], r.get("reason")) for r in answer["results"]]
    assert reasons == [("rejected", "reason_required"), ("rejected", "invalid_args"),
                       ("rejected", "invalid_args"), ("rejected", "bad_cause")]
    assert job_detail(api, job["id"])["parts_requests"] == []


def test_return_only_on_its_own_jobs(api, demo, client, tech1, job):
    taken = receipt(tech1, job["id"])
    tech1.push(on_site(tech1, job) + [taken])
    other = job_of_type(tech1, "installation")
    wrong = giveback(tech1, other["id"], taken["args"]["receipt_id"])
    unknown = giveback(tech1, job["id"], new_uuid(), seed=52)
    lost = giveback(tech1, job["id"], taken["args"]["receipt_id"], seed=53,
                    receipt_retrieved=False)
    answer = tech1.push([wrong, unknown, lost])
    assert [r.get("reason") for r in answer["results"]] == [
        "receipt_not_on_job", "unknown_receipt", "receipt_note_required"]
    # The customer lost the paper: written down, then the slip is signed on the same job.
    ok = giveback(tech1, job["id"], taken["args"]["receipt_id"], seed=54,
                  receipt_retrieved=False, note="顾客收据遗失，已核对身份证")
    assert statuses(tech1.push([ok])) == {ok["seq"]: "applied"}
    (tb,) = job_detail(api, job["id"])["takebacks"]
    assert tb["status"] == "returned" and tb["receipt_retrieved"] is False
    assert tb["return_note"].startswith("顾客收据遗失")


def test_each_role_sees_only_what_it_may(api, demo, client, tech1, job):
    request_ = parts_request(tech1, job["id"])
    taken = receipt(tech1, job["id"])
    tech1.push(on_site(tech1, job) + [request_, taken])
    rid, receipt_id = request_["args"]["request_id"], taken["args"]["receipt_id"]
    Phone(client, "tech2")
    assert api.get("/api/v1/parts-requests", as_="tech2").get_json()["total"] == 0
    assert api.get("/api/v1/takebacks", as_="tech2").get_json()["total"] == 0
    assert api.get(f"/api/v1/parts-requests/{rid}", as_="tech2").status_code == 404
    assert api.get(f"/api/v1/takebacks/{receipt_id}", as_="tech2").status_code == 404
    assert api.get("/api/v1/parts-requests", as_="tech1").get_json()["total"] == 1
    assert api.get("/api/v1/takebacks", as_="tech1").get_json()["total"] == 1
    for office in ("dispatcher1", "supervisor1", "admin"):
        assert api.get("/api/v1/parts-requests", as_=office).get_json()["total"] == 1
        assert api.get("/api/v1/takebacks", as_=office).get_json()["total"] == 1
    # PDFs are office papers.
    assert api.get(f"/api/v1/takebacks/{receipt_id}/receipt.pdf", as_="tech1").status_code == 403
    assert api.get("/api/v1/parts-requests?status=bogus", as_="admin").status_code == 422


def test_overdue_take_backs(api, clock, tech1, job):
    taken = receipt(tech1, job["id"], photos=0)
    tech1.push(on_site(tech1, job) + [taken])
    body = api.get("/api/v1/takebacks?overdue=true", as_="dispatcher1").get_json()
    assert body["total"] == 0 and body["overdue_days"] == 7
    clock.set(T0 + timedelta(days=7, hours=1))
    body = api.get("/api/v1/takebacks?overdue=true", as_="dispatcher1").get_json()
    assert body["total"] == 1 and body["items"][0]["overdue"] is True

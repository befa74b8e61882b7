"""Issue 17, deliberate decisions through the API: approving a job with an open complaint
(contract, "Review": 409 `open_complaints` unless `"override": true` and a `comment`, which
the record keeps), cancelling a job under way (409 `job_under_way` unless `"override": true`;
the contract names no field for this, so it reuses the Review's), refusing a parts request
(a reason, required and kept). A refusal stores nothing."""
from tests.support.helpers import complete_job, new_uuid, sync_push
from tests.support.review_kit import get, review, tech_jobs, verify


def error(response, status, code):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"] == code, body
    return body


def complaint_about(api, job, **extra):
    response = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "job_id": job["id"], "customer": {"name": "周女士", "phone": "13912340003"},
        "about": "technician", "content": "师傅把地板划伤了", "severity": "general", **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def events(app, job_id):
    from fieldapp.extensions import db
    from fieldapp.models import JobEvent

    with app.app_context():
        return [(e.type, e.data) for e in db.session.query(JobEvent)
                .filter(JobEvent.job_id == job_id).order_by(JobEvent.id)]


def test_approve_with_an_open_complaint_needs_the_override_and_a_comment(api, demo, app):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    complaint = complaint_about(api, job)
    before = events(app, job["id"])

    body = error(review(api, job["id"], decision="approve", comment="证据齐全"), 409,
                 "open_complaints")
    assert [c["ref"] for c in body["details"]["complaints"]] == [complaint["ref"]]
    assert body["details"]["complaints"][0]["id"] == complaint["id"]
    assert body["message"]  # in the caller's language
    # The override alone is not enough: the record must say why.
    error(review(api, job["id"], decision="approve", override=True), 409, "open_complaints")
    error(review(api, job["id"], decision="approve", override=True, comment="  "), 409,
          "open_complaints")
    # Only a JSON boolean overrides.
    error(review(api, job["id"], decision="approve", override="yes", comment="x"), 422,
          "validation_error")
    after = get(api, job["id"])
    assert after["status"] == "completed" and after["seal"] is None and after["review"] is None
    assert events(app, job["id"]) == before  # nothing stored half-way

    why = "投诉与本次维修质量无关，已另开工单处理地板"
    approved = review(api, job["id"], decision="approve", override=True, comment=why)
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["status"] == "approved" and body["seal"] is not None
    assert body["review"]["comment"] == why
    status_event = [d for t, d in events(app, job["id"]) if t == "status"][-1]
    assert status_event == {"from": "completed", "to": "approved", "comment": why,
                            "override": True, "open_complaints": [complaint["ref"]]}
    # The seal covers it: the sealed record holds the override and its comment.
    from fieldapp.extensions import db
    from fieldapp.models import Seal

    with app.app_context():
        record = db.session.query(Seal).filter(Seal.job_id == job["id"]).one().record
    sealed = [e for e in record["events"] if e["type"] == "status"][-1]["data"]
    assert sealed["override"] is True and sealed["comment"] == why
    assert sealed["open_complaints"] == [complaint["ref"]]
    assert verify(app).exit_code == 0


def test_rework_and_a_handled_complaint_need_no_override(api, demo, app):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    complaint = complaint_about(api, job)
    assert review(api, job["id"], decision="rework", comment="先处理投诉").status_code == 200
    complete_job(api, job["id"], seed=2)
    assert api.patch(f"/api/v1/complaints/{complaint['id']}", as_="dispatcher1", json={
        "status": "resolved", "result": "已赔偿并修复地板"}).status_code == 200
    approved = review(api, job["id"], decision="approve", comment="好")
    assert approved.status_code == 200, approved.get_json()
    status_event = [d for t, d in events(app, job["id"]) if t == "status"][-1]
    assert "override" not in status_event


def test_a_complaint_about_another_job_does_not_block(api, demo):
    jobs = tech_jobs(api, demo)
    complaint_about(api, jobs["delivery"])
    complete_job(api, jobs["repair"]["id"])
    assert review(api, jobs["repair"]["id"], decision="approve").status_code == 200


def test_cancelling_a_job_under_way_needs_the_override(api, demo, app):
    jobs = tech_jobs(api, demo)
    job = jobs["repair"]
    sync_push(api, "tech1", [("job.status", job["id"], {"status": "en_route"})])
    before = events(app, job["id"])
    body = error(api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "status": "cancelled", "reason": "顾客临时取消"}), 409, "job_under_way")
    assert body["details"] == {"status": "en_route", "technician_id": demo["tech1"]}
    assert get(api, job["id"])["status"] == "en_route"
    assert events(app, job["id"]) == before
    error(api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "status": "cancelled", "reason": "x", "override": 1}), 422, "validation_error")
    error(api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "technician_id": demo["tech2"], "override": True}), 422, "validation_error")
    done = api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "status": "cancelled", "reason": "顾客临时取消，已电话通知师傅", "override": True})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["status"] == "cancelled"
    assert events(app, job["id"])[-1] == ("status", {
        "from": "en_route", "to": "cancelled", "reason": "顾客临时取消，已电话通知师傅",
        "override": True})
    # A job not under way yet is cancelled with a reason alone, and records no override.
    other = jobs["delivery"]
    assert api.patch(f"/api/v1/jobs/{other['id']}", as_="dispatcher1", json={
        "status": "cancelled", "reason": "顾客改期"}).status_code == 200
    assert "override" not in events(app, other["id"])[-1][1]


def test_refusing_a_parts_request_needs_a_reason_which_is_kept(api, demo):
    job = tech_jobs(api, demo)["repair"]
    request_id = new_uuid()
    sync_push(api, "tech1", [("parts.request", job["id"], {
        "request_id": request_id, "part_name": "扶手木架", "quantity": 1,
        "kind": "replacement", "reason": "木架断裂"})])
    for reason in (None, "", "   "):
        body = {"decision": "refuse"} if reason is None else {"decision": "refuse",
                                                               "reason": reason}
        answer = api.post(f"/api/v1/parts-requests/{request_id}/decision", as_="supervisor1",
                          json=body)
        assert answer.status_code in (409, 422), answer.get_json()
        assert answer.get_json()["error"] in ("reason_required", "validation_error")
    [pending] = [p for p in get(api, job["id"])["parts_requests"]]
    assert pending["status"] == "pending" and pending["decision_reason"] is None
    answer = api.post(f"/api/v1/parts-requests/{request_id}/decision", as_="supervisor1",
                      json={"decision": "refuse", "reason": "可现场修复，无需更换"})
    assert answer.status_code == 200, answer.get_json()
    [refused] = get(api, job["id"])["parts_requests"]
    assert refused["status"] == "refused" and refused["decision_reason"] == "可现场修复，无需更换"

"""Office writes (contact log, notes, reschedule) while a phone pushes at the same moment:
no "database is locked" on SQLite, no lost write on either side. Every state-changing
request takes the write lock before it reads (fieldapp.db.write_request)."""
import threading

from tests.support.helpers import new_uuid


def test_office_writes_while_a_phone_pushes(app, demo):
    phone = app.test_client()
    office = app.test_client()
    token = phone.post("/api/v1/auth/login", json={"username": "tech1", "password": "fieldapp-demo",
                                                   "device_name": "phone"}).get_json()
    office_token = office.post("/api/v1/auth/login", json={
        "username": "dispatcher1", "password": "fieldapp-demo", "device_name": "desk"}).get_json()["token"]
    pulled = phone.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {token['token']}"}).get_json()
    job_id = pulled["changes"]["jobs"][0]["id"]
    office_headers = {"Authorization": f"Bearer {office_token}"}
    # The demo records the call that agreed a scheduled job's visit: count only this test's.
    calls_before = sum(e["type"] == "contact" for e in office.get(
        f"/api/v1/jobs/{job_id}", headers=office_headers).get_json()["events"])
    failures: list = []

    def push():
        for batch in range(10):
            mutations = [{"seq": batch * 5 + i + 1, "id": new_uuid(), "type": "job.note", "job_id": job_id,
                          "at": "2026-11-24T01:00:00Z", "args": {"text": f"note {batch}-{i}"}} for i in range(5)]
            answer = phone.post("/api/v1/sync/push", headers={"Authorization": f"Bearer {token['token']}"},
                                json={"device_id": token["device_id"], "mutations": mutations})
            if answer.status_code != 200:
                failures.append(("push", answer.status_code, answer.get_json()))

    def desk():
        headers = {"Authorization": f"Bearer {office_token}"}
        for i in range(20):
            answer = office.post(f"/api/v1/jobs/{job_id}/contact", headers=headers,
                                 json={"outcome": "no_answer", "note": f"call {i}"})
            if answer.status_code != 201:
                failures.append(("contact", answer.status_code, answer.get_json()))
            answer = office.post(f"/api/v1/jobs/{job_id}/notes", headers=headers, json={"text": f"desk {i}"})
            if answer.status_code != 201:
                failures.append(("note", answer.status_code, answer.get_json()))

    threads = [threading.Thread(target=push), threading.Thread(target=desk)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures[:3]
    detail = office.get(f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {office_token}"}).get_json()
    texts = [n["text"] for n in detail["notes"]]
    assert sum(t.startswith("note ") for t in texts) == 50
    assert sum(t.startswith("desk ") for t in texts) == 20
    assert sum(e["type"] == "contact" for e in detail["events"]) == calls_before + 20

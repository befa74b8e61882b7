"""Issue 7's timed work with an injected clock: each rule fires once, at its moment (just
before it nothing, at or after it once, later never again), and run-once twice in a row does
nothing the second time."""
import json
from datetime import timedelta

from botocore.exceptions import EndpointConnectionError

from sync.blobs import BlobError
from tests.support.helpers import T0, intake_body, jpeg_bytes, new_uuid, sync_push, upload_blob
from tests.support.notify_kit import call_waiting_jobs, counts, notes, run, sh
from tests.support.services import both_blob_stores

SECOND = timedelta(seconds=1)


def _clock(app, job_id=None, complaint_id=None, name=None):
    from fieldapp.extensions import db
    from fieldapp.models import SlaClock

    with app.app_context():
        query = db.session.query(SlaClock).filter(SlaClock.name == name)
        if job_id:
            query = query.filter(SlaClock.job_id == job_id)
        else:
            query = query.filter(SlaClock.complaint_id == complaint_id)
        return query.one().due_at


def _bodies(app, kind):
    from fieldapp.extensions import db
    from fieldapp.models import Notification

    with app.app_context():
        return [n.body for n in db.session.query(Notification).filter(Notification.kind == kind)
                .order_by(Notification.id)]


def test_first_contact_missed_tells_the_dispatchers_once(app, api, demo, clock):
    job = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body()).get_json()
    due = _clock(app, job_id=job["id"], name="first_contact")
    assert due == T0 + timedelta(minutes=5)
    clock.set(due)
    run(app)
    assert notes(app, "sla_first_contact") == []
    clock.set(due + SECOND)
    run(app)
    # This job and the demo's two unassigned ones broke together: one notice lists the three
    # (the demo's scheduled jobs had their call, and an agreed visit is no alarm anyway).
    [note] = notes(app, "sla_first_contact")
    assert note[0] == demo["dispatcher1"] and note[2] is None and "3" in note[4]
    [body] = _bodies(app, "sla_first_contact")
    assert job["ref"] in body and len(body.splitlines()) == 3
    clock.advance(days=3)
    run(app)
    assert len(notes(app, "sla_first_contact")) == 1
    assert notes(app, "sla_first_contact", user_id=demo["supervisor1"]) == []


def test_one_missed_first_contact_is_told_about_its_job(app, api, demo, clock):
    call_waiting_jobs(app, api)  # the demo's unassigned jobs get their call
    job = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body()).get_json()
    clock.advance(minutes=5, seconds=1)
    run(app)
    [note] = notes(app, "sla_first_contact")
    assert note[2] == job["id"] and job["ref"] in note[4]


def test_a_call_in_time_means_no_notice(app, api, demo, clock):
    job = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body()).get_json()
    clock.advance(minutes=2)
    assert api.post(f"/api/v1/jobs/{job['id']}/contact", as_="dispatcher1",
                    json={"outcome": "reached"}).status_code in (200, 201)
    clock.advance(hours=5)
    run(app)
    assert notes(app, "sla_first_contact", job_id=job["id"]) == []


def test_major_complaint_not_escalated_in_an_hour_tells_the_supervisors_once(app, api, demo,
                                                                             clock):
    late = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "customer": {"name": "郑女士", "phone": "13912340005"}, "about": "service",
        "content": "电话没人接", "severity": "major"}).get_json()
    kept = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "customer": {"name": "孙先生", "phone": "13912340006"}, "about": "technician",
        "content": "师傅迟到", "severity": "major"}).get_json()
    due = _clock(app, complaint_id=late["id"], name="escalation")
    assert due == T0 + timedelta(hours=1)
    # Escalated in time (to nobody in particular): every supervisor hears of it at once.
    clock.advance(minutes=30)
    assert api.patch(f"/api/v1/complaints/{kept['id']}", as_="dispatcher1", json={
        "status": "escalated", "note": "请主管处理"}).status_code == 200
    [told] = notes(app, "complaint_escalated", complaint_id=kept["id"])
    assert told[0] == demo["supervisor1"] and kept["ref"] in told[4]
    clock.set(due)
    run(app)
    assert notes(app, "complaint_not_escalated") == []
    clock.set(due + SECOND)
    run(app)
    [note] = notes(app, "complaint_not_escalated")
    assert note[0] == demo["supervisor1"] and note[3] == late["id"]
    clock.advance(days=1)
    run(app)
    assert len(notes(app, "complaint_not_escalated")) == 1
    # Escalated late, to the supervisor by name: they are told of that too, once.
    assert api.patch(f"/api/v1/complaints/{late['id']}", as_="dispatcher1", json={
        "status": "escalated", "supervisor_id": demo["supervisor1"]}).status_code == 200
    assert len(notes(app, "complaint_escalated", complaint_id=late["id"])) == 1
    run(app)
    assert len(notes(app, "complaint_not_escalated")) == 1


def test_resolution_overdue_tells_dispatchers_and_supervisors(app, api, demo, clock):
    job = api.post("/api/v1/jobs", as_="dispatcher1",
                   json=intake_body(type="delivery")).get_json()
    due = _clock(app, job_id=job["id"], name="resolution")
    assert due == T0 + timedelta(hours=48)
    clock.set(due)
    run(app)
    assert notes(app, "sla_resolution", job_id=job["id"]) == []
    clock.set(due + SECOND)
    run(app)
    # With the demo's two deliveries (due at the same moment): one notice each, listing all.
    told = sorted(n[0] for n in notes(app, "sla_resolution"))
    assert told == sorted([demo["dispatcher1"], demo["supervisor1"]])
    assert all(job["ref"] in body for body in _bodies(app, "sla_resolution"))
    clock.advance(days=10)
    run(app)  # the demo's other jobs break later, in their own notice; this one is not told again
    assert sum(job["ref"] in body for body in _bodies(app, "sla_resolution")) == 2


def test_tomorrows_jobs_remind_the_technician_once_and_again_when_rescheduled(app, api, demo,
                                                                             clock):
    job = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body(
        technician_id=demo["tech1"], scheduled_start="2026-11-25T10:00:00+08:00",
        scheduled_end="2026-11-25T12:00:00+08:00")).get_json()
    assert job["status"] == "scheduled"
    clock.set(sh(2026, 11, 24, 16, 59) + 59 * SECOND)
    run(app)
    assert notes(app, "job_reminder") == []
    clock.set(sh(2026, 11, 24, 17, 0))
    run(app)
    [note] = notes(app, "job_reminder")
    assert note[0] == demo["tech1"] and note[2] == job["id"] and "10:00" in note[4]
    clock.set(sh(2026, 11, 24, 20, 0))
    run(app)
    assert len(notes(app, "job_reminder")) == 1
    moved = api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "scheduled_start": "2026-11-25T14:00:00+08:00",
        "scheduled_end": "2026-11-25T16:00:00+08:00"})
    assert moved.status_code == 200, moved.get_json()
    run(app)
    subjects = [n[4] for n in notes(app, "job_reminder")]
    assert len(subjects) == 2 and "14:00" in subjects[1]
    clock.set(sh(2026, 11, 25, 9, 0))  # the day itself: no more reminders
    run(app)
    assert len(notes(app, "job_reminder")) == 2
    # The technician reads it on the phone with their bearer token.
    body = api.get("/api/v1/notifications", as_="tech1").get_json()
    assert [i["kind"] for i in body["items"]] == ["job_reminder", "job_reminder"]
    assert "14:00" in body["items"][0]["subject"]  # newest first
    assert body["unread"] == 2
    first = body["items"][0]
    assert set(first) >= {"id", "kind", "created_at", "read", "subject", "body", "job_id",
                          "complaint_id"}
    read = api.post(f"/api/v1/notifications/{first['id']}/read", as_="tech1")
    assert read.status_code == 200 and read.get_json()["read"] is True
    assert api.get("/api/v1/notifications?unread=1", as_="tech1").get_json()["unread"] == 1
    # Nobody reads or marks another user's notifications.
    other = api.post(f"/api/v1/notifications/{body['items'][1]['id']}/read",
                     as_="dispatcher1")
    assert other.status_code == 404 and other.get_json()["error"] == "notification_not_found"
    assert api.get("/api/v1/notifications", as_="dispatcher1").get_json()["items"] == [] or \
        all(i["kind"] != "job_reminder" for i in
            api.get("/api/v1/notifications", as_="dispatcher1").get_json()["items"])
    assert api.get("/api/v1/notifications").status_code == 401


def test_a_silent_device_with_field_work_is_flagged_once_per_silent_period(app, api, demo,
                                                                          clock):
    jobs = api.get(f"/api/v1/jobs?technician_id={demo['tech1']}", as_="dispatcher1"
                   ).get_json()["items"]
    pushed = sync_push(api, "tech1", [("job.status", jobs[0]["id"], {"status": "en_route"})])
    assert pushed.get_json()["results"][0]["status"] == "applied"
    clock.set(T0 + timedelta(hours=24) - SECOND)
    run(app)
    assert notes(app, "device_stale") == []
    clock.set(T0 + timedelta(hours=24))
    run(app)
    [note] = notes(app, "device_stale")
    assert note[0] == demo["dispatcher1"]
    clock.set(T0 + timedelta(hours=30))
    run(app)
    assert len(notes(app, "device_stale")) == 1
    # It syncs again: a new period begins; silent for another day, flagged again.
    assert api.get("/api/v1/sync/pull?cursor=", as_="tech1").status_code == 200
    clock.set(T0 + timedelta(hours=54) - SECOND)
    run(app)
    assert len(notes(app, "device_stale")) == 1
    clock.set(T0 + timedelta(hours=54))
    run(app)
    assert len(notes(app, "device_stale")) == 2


def test_a_silent_device_without_field_work_is_left_alone(app, api, demo, clock):
    api.login("tech2")
    clock.advance(days=3)
    run(app)
    assert notes(app, "device_stale") == []


@both_blob_stores()
def test_unreferenced_blobs_go_after_the_retention_period_and_referenced_ones_stay(
        app, api, demo, clock):
    from fieldapp.extensions import db
    from fieldapp.models import Blob

    jobs = api.get(f"/api/v1/jobs?technician_id={demo['tech1']}", as_="dispatcher1"
                   ).get_json()["items"]
    used = upload_blob(api, "tech1", jpeg_bytes(1), "image/jpeg")
    stray = upload_blob(api, "tech1", jpeg_bytes(2), "image/jpeg")
    evidence = upload_blob(api, "dispatcher1", jpeg_bytes(3), "image/jpeg")
    assert sync_push(api, "tech1", [("photo.attach", jobs[0]["id"], {
        "photo_id": new_uuid(), "sha256": used})]).get_json()["results"][0]["status"] == \
        "applied"
    assert api.post("/api/v1/complaints", as_="dispatcher1", json={
        "customer": {"name": "郑女士", "phone": "13912340005"}, "about": "product",
        "content": "桌面划痕", "severity": "general", "evidence_sha256": evidence}
    ).status_code == 201
    store = app.extensions["fieldapp.blobs"]  # files, or the S3 server's bucket

    def present():
        with app.app_context():
            rows = {b.sha256 for b in db.session.query(Blob)}
        return {sha for sha in (used, stray, evidence) if sha in rows and store.exists(sha)}

    clock.set(T0 + timedelta(days=30) - SECOND)
    run(app)
    assert present() == {used, stray, evidence}
    clock.set(T0 + timedelta(days=30))
    results = run(app)
    assert results["blob_retention"] == {"removed": 1}
    assert present() == {used, evidence}
    assert not store.exists(stray)
    clock.advance(days=400)
    assert run(app)["blob_retention"] == {"removed": 0}
    assert present() == {used, evidence}


def test_a_blob_uploaded_again_starts_its_retention_period_again(app, api, demo, clock):
    """A phone that re-sends an old photo is about to reference it: the clean-up must not
    delete it between the upload and the push."""
    from fieldapp.extensions import db
    from fieldapp.models import Blob

    sha = upload_blob(api, "tech1", jpeg_bytes(4), "image/jpeg")
    clock.set(T0 + timedelta(days=29))
    assert upload_blob(api, "tech1", jpeg_bytes(4), "image/jpeg") == sha
    clock.set(T0 + timedelta(days=30))
    assert run(app)["blob_retention"] == {"removed": 0}
    clock.set(T0 + timedelta(days=59))
    assert run(app)["blob_retention"] == {"removed": 1}
    with app.app_context():
        assert db.session.get(Blob, sha) is None


@both_blob_stores()
def test_a_blob_the_store_fails_to_delete_does_not_keep_the_others(app, api, demo, clock):
    """The object store unreachable for one delete: the rest still go, the run says so."""
    shas = [upload_blob(api, "tech1", jpeg_bytes(n), "image/jpeg") for n in (11, 12, 13)]
    store = app.extensions["fieldapp.blobs"]
    real_delete = store.delete
    broken = sorted(shas)[1]

    def delete(sha256):
        if sha256 == broken:
            raise (EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
                   if hasattr(store, "bucket") else BlobError())
        real_delete(sha256)

    store.delete = delete
    clock.set(T0 + timedelta(days=30))
    assert run(app)["blob_retention"] == {"removed": 3, "delete_failed": 1}
    assert [s for s in shas if store.exists(s)] == [broken]


@both_blob_stores()
def test_uploads_cut_off_by_a_crash_are_swept_after_an_hour(app, demo, clock):
    import os

    incoming = app.extensions["fieldapp.blobs"].incoming  # local on S3 too
    os.makedirs(incoming, exist_ok=True)
    dead, live = os.path.join(incoming, "up-dead"), os.path.join(incoming, "up-live")
    for path, age in ((dead, timedelta(minutes=61)), (live, timedelta(minutes=10))):
        with open(path, "wb") as handle:
            handle.write(b"half a photo")
        stamp = (T0 - age).timestamp()
        os.utime(path, (stamp, stamp))
    assert run(app)["blob_retention"] == {"removed": 0, "stale_uploads": 1}
    assert not os.path.exists(dead) and os.path.exists(live)


def test_run_once_twice_in_a_row_does_nothing_the_second_time(app, api, demo, clock):
    api.post("/api/v1/complaints", as_="dispatcher1", json={
        "customer": {"name": "郑女士", "phone": "13912340005"}, "about": "service",
        "content": "电话没人接", "severity": "major"})
    api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body(
        technician_id=demo["tech1"], scheduled_start="2026-11-25T10:00:00+08:00"))
    runner = app.test_cli_runner()
    now = (T0 + timedelta(hours=9)).isoformat()  # 18:00 in Shanghai
    first = runner.invoke(args=["scheduler", "run-once", "--now", now])
    assert first.exit_code == 0, first.output
    done = json.loads(first.output)
    # The demo's 2 unassigned jobs' first contacts and 1 complaint (the scheduled jobs'
    # first contacts were met or stopped: a visit is agreed).
    assert done["sla_escalations"]["notified"] == 3
    assert done["job_reminders"]["reminded"] == 1
    assert done["deliveries"] == {"sent": 0, "logged": 0, "retry": 0, "failed": 0}
    before = counts(app)
    assert before["Notification"] > 0
    second = runner.invoke(args=["scheduler", "run-once", "--now", now])
    assert second.exit_code == 0, second.output
    again = json.loads(second.output)
    assert again["sla_escalations"] == {"notified": 0}
    assert again["job_reminders"] == {"reminded": 0}
    assert again["stale_devices"] == {"flagged": 0}
    assert again["blob_retention"] == {"removed": 0}
    assert again["return_visits"] == {"created": 0}
    assert again["deliveries"] == {"sent": 0, "logged": 0, "retry": 0, "failed": 0}
    assert counts(app) == before


def test_run_once_names_a_bad_time_or_task(app):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=["scheduler", "run-once", "--now", "yesterday"])
    assert bad.exit_code != 0 and "ISO 8601" in bad.output
    bad = runner.invoke(args=["scheduler", "run-once", "--task", "nope"])
    assert bad.exit_code != 0 and "deliveries" in bad.output


def test_a_task_whose_lease_another_process_holds_is_skipped(app, clock):
    from fieldapp.extensions import db
    from fieldapp.scheduler.runner import acquire, run_once

    with app.app_context():
        assert acquire(db.session, "job_reminders", "someone-else")
        assert not acquire(db.session, "job_reminders", "me")
        assert acquire(db.session, "job_reminders", "someone-else")  # its own, renewed
    results = run_once(app, holder="me")
    assert results["job_reminders"] == "skipped: leased"
    assert results["sla_escalations"] == {"notified": 0}
    # An expired lease is free again.
    from datetime import datetime, timezone

    from fieldapp.core.clock import FixedClock
    with app.app_context():
        later = FixedClock(datetime.now(timezone.utc) + timedelta(minutes=6))
        assert acquire(db.session, "job_reminders", "me", wall=later)

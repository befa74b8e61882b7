"""Every change to a job, from any side, is an event with who, what, server time and, for
device changes, the device's time."""
from datetime import datetime, timedelta

import pytest

from tests.support.helpers import (
    T0,
    complete_job,
    intake_body,
    jpeg_bytes,
    new_uuid,
    png_bytes,
    sync_push,
    upload_blob,
)


def parse(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def events(api, job_id):
    return api.get(f"/api/v1/jobs/{job_id}", as_="admin").get_json()["events"]


def only_new(api, job_id, before):
    after = events(api, job_id)
    assert after[:len(before)] == before, "the audit trail is append-only"
    return after[len(before):]


def assert_who_what_when(event, demo, user, role, type_, server_at, device_at=None):
    assert event["type"] == type_
    assert isinstance(event["data"], dict) and event["data"]
    assert event["actor_id"] == demo[user]
    assert event["actor_role"] == role
    assert event["actor"]
    assert parse(event["server_at"]) == server_at
    if device_at is None:
        assert event["device_at"] is None
    else:
        assert parse(event["device_at"]) == parse(device_at)


@pytest.fixture
def repair(api, demo):
    items = api.get(f"/api/v1/jobs?technician_id={demo['tech1']}",
                    as_="dispatcher1").get_json()["items"]
    return [j for j in items if j["type"] == "repair"][0]["id"]


def test_office_changes(api, demo, clock):
    created = api.post("/api/v1/jobs", as_="dispatcher1", json=intake_body()).get_json()
    job_id = created["id"]
    [event] = events(api, job_id)
    assert_who_what_when(event, demo, "dispatcher1", "dispatcher", "created", T0)
    assert event["data"]["ref"] == created["ref"]
    assert event["data"]["customer_id"] == created["customer"]["id"]
    assert event["data"]["checklist_template_id"] == created["checklist_template_id"]

    steps = [
        ("contact", "dispatcher1", "dispatcher", "post", f"/api/v1/jobs/{job_id}/contact",
         {"outcome": "reached", "note": "约明天"}, {"outcome": "reached", "note": "约明天"}),
        (["rescheduled", "assigned"], "admin", "admin", "patch", f"/api/v1/jobs/{job_id}",
         {"technician_id": demo["tech1"], "scheduled_start": "2026-11-25T10:00:00+08:00",
          "scheduled_end": "2026-11-25T12:00:00+08:00"},
         {"to_technician_id": demo["tech1"], "from_technician_id": None,
          "status_from": "new", "status_to": "scheduled"}),
        ("note", "supervisor1", "supervisor", "post", f"/api/v1/jobs/{job_id}/notes",
         {"text": "带上胶水"}, {"text": "带上胶水"}),
        ("rescheduled", "dispatcher1", "dispatcher", "patch", f"/api/v1/jobs/{job_id}",
         {"scheduled_start": "2026-11-26T10:00:00+08:00",
          "scheduled_end": "2026-11-26T12:00:00+08:00"},
         {"to": ["2026-11-26T02:00:00Z", "2026-11-26T04:00:00Z"],
          "from": ["2026-11-25T02:00:00Z", "2026-11-25T04:00:00Z"]}),
        ("assigned", "dispatcher1", "dispatcher", "patch", f"/api/v1/jobs/{job_id}",
         {"technician_id": demo["tech2"]},
         {"from_technician_id": demo["tech1"], "to_technician_id": demo["tech2"]}),
        ("status", "dispatcher1", "dispatcher", "patch", f"/api/v1/jobs/{job_id}",
         {"status": "cancelled", "reason": "顾客取消"},
         {"from": "scheduled", "to": "cancelled", "reason": "顾客取消"}),
    ]
    for types, user, role, method, path, body, expected in steps:
        types = types if isinstance(types, list) else [types]
        clock.advance(minutes=7)
        before = events(api, job_id)
        response = getattr(api, method)(path, as_=user, json=body)
        assert response.status_code in (200, 201), response.get_json()
        new = only_new(api, job_id, before)
        assert [e["type"] for e in new] == types, new
        for event, type_ in zip(new, types):
            assert_who_what_when(event, demo, user, role, type_, clock.now())
        for key, value in expected.items():
            assert new[-1]["data"][key] == value, (types, key, new[-1]["data"])


@pytest.mark.parametrize("decision,comment,to", [("approve", None, "approved"),
                                                 ("rework", "重拍照片", "rework")])
@pytest.mark.parametrize("reviewer,role", [("supervisor1", "supervisor"), ("admin", "admin")])
def test_review_event(api, demo, clock, repair, decision, comment, to, reviewer, role):
    complete_job(api, repair)
    clock.advance(hours=2)
    before = events(api, repair)
    response = api.post(f"/api/v1/jobs/{repair}/review", as_=reviewer,
                        json={"decision": decision, "comment": comment})
    assert response.status_code == 200, response.get_json()
    [event] = only_new(api, repair, before)
    assert_who_what_when(event, demo, reviewer, role, "status", clock.now())
    assert event["data"]["from"] == "completed" and event["data"]["to"] == to
    if comment:
        assert event["data"]["comment"] == comment


def test_every_sync_mutation_type(api, demo, clock, repair):
    photo = upload_blob(api, "tech1", jpeg_bytes(11), "image/jpeg")
    signature = upload_blob(api, "tech1", png_bytes(12), "image/png")
    receipt_sig = upload_blob(api, "tech1", png_bytes(13), "image/png")
    return_sig = upload_blob(api, "tech1", png_bytes(14), "image/png")
    receipt_id, photo_id = new_uuid(), new_uuid()
    api.login("tech1")
    device_id = api.devices["tech1"]
    mutations = [
        ("job.status", {"status": "en_route"}, "status", {"from": "scheduled", "to": "en_route"}),
        ("job.status", {"status": "on_site", "lat": 31.2, "lng": 121.5}, "status",
         {"from": "en_route", "to": "on_site", "position": {"lat": 31.2, "lng": 121.5}}),
        ("checklist.answer", {"item_key": "shoe_covers", "value": True, "note": "穿好了"},
         "answer", {"item_key": "shoe_covers", "value": True, "previous": None}),
        ("checklist.answer", {"item_key": "shoe_covers", "value": False}, "answer",
         {"item_key": "shoe_covers", "value": False, "previous": True}),
        ("job.note", {"text": "顾客要求下午来"}, "note", {"text": "顾客要求下午来"}),
        ("photo.attach", {"photo_id": photo_id, "sha256": photo, "item_key": "damage_photo",
                          "caption": "扶手", "taken_at": "2026-11-24T09:40:00+08:00"},
         "photo", {"sha256": photo, "item_key": "damage_photo"}),
        ("photo.remove", {"photo_id": photo_id}, "photo_removed",
         {"photo_id": photo_id, "sha256": photo, "item_key": "damage_photo"}),
        ("signature.capture", {"signature_id": new_uuid(), "sha256": signature,
                               "signer_name": "周女士", "signer_relation": "customer"},
         "signature", {"sha256": signature, "signer_name": "周女士"}),
        ("parts.request", {"request_id": new_uuid(), "part_name": "扶手螺丝", "quantity": 4,
                           "kind": "replacement", "reason": "原螺丝滑丝"},
         "parts_request", {"part_name": "扶手螺丝", "quantity": 4, "kind": "replacement"}),
        ("takeback.receipt", {"receipt_id": receipt_id, "items": ["沙发坐垫"],
                              "condition": "左侧开线", "signature_sha256": receipt_sig},
         "takeback_receipt", {"receipt_id": receipt_id, "signature_sha256": receipt_sig}),
        ("takeback.return", {"receipt_id": receipt_id, "signature_sha256": return_sig},
         "takeback_return", {"receipt_id": receipt_id, "signature_sha256": return_sig}),
    ]
    device_clock = datetime(2026, 11, 24, 1, 30, 0)
    types_seen = set()
    for n, (type_, args, event_type, expected) in enumerate(mutations):
        clock.advance(minutes=3)
        at = (device_clock + timedelta(minutes=n, seconds=17)).isoformat() + "+08:00"
        before = events(api, repair)
        response = sync_push(api, "tech1", [(type_, repair, args)], at=at)
        assert response.status_code == 200
        assert response.get_json()["results"][0]["status"] == "applied", response.get_json()
        new = only_new(api, repair, before)
        assert [e["type"] for e in new] == [event_type], (type_, new)
        event = new[0]
        assert_who_what_when(event, demo, "tech1", "technician", event_type, clock.now(),
                             device_at=at)
        assert event["device_id"] == device_id
        for key, value in expected.items():
            assert event["data"][key] == value, (type_, key, event["data"])
        types_seen.add(type_)
    from sync.registry import HANDLERS

    assert types_seen == set(HANDLERS)


def test_device_time_is_kept_but_not_used_for_ordering(api, demo, clock, repair):
    # A phone with its clock a day behind: its time is recorded, the server's orders.
    response = sync_push(api, "tech1", [("job.note", repair, {"text": "one"}),
                                        ("job.note", repair, {"text": "two"})],
                         at="2026-11-23T01:00:00Z")
    assert [r["status"] for r in response.get_json()["results"]] == ["applied", "applied"]
    notes = [e for e in events(api, repair) if e["type"] == "note"]
    assert [e["data"]["text"] for e in notes] == ["one", "two"]
    assert all(e["device_at"] == "2026-11-23T01:00:00Z" for e in notes)
    assert all(parse(e["server_at"]) == T0 for e in notes)


def test_late_evidence_after_reassignment_is_an_event(api, demo, clock, repair):
    api.login("tech1")
    api.patch(f"/api/v1/jobs/{repair}", as_="dispatcher1", json={"technician_id": demo["tech2"]})
    clock.advance(minutes=5)
    before = events(api, repair)
    at = "2026-11-24T01:02:03Z"
    response = sync_push(api, "tech1", [("job.note", repair, {"text": "已到门口"})], at=at)
    result = response.get_json()["results"][0]
    assert result["status"] == "conflict" and result["reason"] == "reassigned"
    [event] = only_new(api, repair, before)
    assert_who_what_when(event, demo, "tech1", "technician", "late_evidence", clock.now(),
                         device_at=at)
    assert event["data"]["mutation_type"] == "job.note"
    job = api.get(f"/api/v1/jobs/{repair}", as_="dispatcher1").get_json()
    assert job["conflicts"][0]["args"] == {"text": "已到门口"}
    assert job["needs_review"] is True


def test_refused_changes_leave_no_event(api, demo, repair):
    before = events(api, repair)
    api.patch(f"/api/v1/jobs/{repair}", as_="dispatcher1", json={"status": "cancelled"})
    api.post(f"/api/v1/jobs/{repair}/review", as_="supervisor1", json={"decision": "approve"})
    pushed = sync_push(api, "tech1", [("job.status", repair, {"status": "approved"}),
                                      ("checklist.answer", repair, {"item_key": "nope",
                                                                   "value": True})])
    assert [r["status"] for r in pushed.get_json()["results"]] == ["rejected", "rejected"]
    assert events(api, repair) == before


def test_audit_trail_is_append_only(app, api, demo, repair):
    from fieldapp.extensions import db
    from fieldapp.models import AuditTrailIsAppendOnly, JobEvent

    with app.app_context():
        event = db.session.query(JobEvent).filter_by(job_id=repair).first()
        event.data = {"tampered": True}
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        with pytest.raises(AuditTrailIsAppendOnly):
            db.session.delete(db.session.query(JobEvent).filter_by(job_id=repair).first())
            db.session.flush()
        db.session.rollback()

"""Every /api/v1 endpoint against every role: exactly the allowed ones succeed; the others
get 403 (wrong role) or 404 (not their job), as JSON errors, and nothing changes."""
import pytest

from tests.support.helpers import (
    complete_job,
    intake_body,
    jpeg_bytes,
    new_uuid,
    sha,
    sync_push,
    upload_blob,
)

USERS = {"technician": "tech1", "other_technician": "tech2", "dispatcher": "dispatcher1",
         "supervisor": "supervisor1", "admin": "admin"}
EVERYONE = frozenset(USERS)
DISPATCH = frozenset({"dispatcher", "admin"})
REVIEW = frozenset({"supervisor", "admin"})
OFFICE = frozenset({"dispatcher", "supervisor", "admin"})
JOB_VIEWERS = OFFICE | {"technician"}

# (name, method, path, body, allowed roles, success status, needs)
ENDPOINTS = [
    ("auth.me", "GET", "/api/v1/auth/me", None, EVERYONE, 200, ""),
    ("auth.logout", "POST", "/api/v1/auth/logout", None, EVERYONE, 204, ""),
    ("jobs.create", "POST", "/api/v1/jobs", lambda w: intake_body(), DISPATCH, 201, ""),
    ("jobs.list", "GET", "/api/v1/jobs", None, EVERYONE, 200, ""),
    ("jobs.get", "GET", "/api/v1/jobs/{job}", None, JOB_VIEWERS, 200, ""),
    ("jobs.patch", "PATCH", "/api/v1/jobs/{job}",
     lambda w: {"scheduled_start": "2026-11-26T10:00:00+08:00",
                "scheduled_end": "2026-11-26T12:00:00+08:00"}, DISPATCH, 200, ""),
    ("jobs.patch.cancel", "PATCH", "/api/v1/jobs/{job}",
     lambda w: {"status": "cancelled", "reason": "顾客取消"}, DISPATCH, 200, ""),
    ("jobs.contact", "POST", "/api/v1/jobs/{job}/contact",
     lambda w: {"outcome": "reached", "note": "ok"}, DISPATCH, 201, ""),
    ("jobs.notes", "POST", "/api/v1/jobs/{job}/notes", lambda w: {"text": "请带配件"},
     OFFICE, 201, ""),
    ("jobs.review.approve", "POST", "/api/v1/jobs/{job}/review",
     lambda w: {"decision": "approve"}, REVIEW, 200, "completed"),
    ("jobs.review.rework", "POST", "/api/v1/jobs/{job}/review",
     lambda w: {"decision": "rework", "comment": "重拍照片"}, REVIEW, 200, "completed"),
    ("sync.pull", "GET", "/api/v1/sync/pull", None, EVERYONE, 200, ""),
    ("blobs.put", "PUT", "/api/v1/blobs/{new_sha}", None, EVERYONE, 201, ""),
    # HEAD is scoped like GET: no "does this photo exist" oracle for other technicians
    ("blobs.head", "HEAD", "/api/v1/blobs/{sha}", None, JOB_VIEWERS, 200, "photo"),
    ("blobs.get", "GET", "/api/v1/blobs/{sha}", None, JOB_VIEWERS, 200, "photo"),
    ("openapi.json", "GET", "/api/v1/openapi.json", None, EVERYONE, 200, ""),
]
CASES = [(e, role) for e in ENDPOINTS for role in USERS]


@pytest.fixture
def world(api, demo):
    jobs = api.get(f"/api/v1/jobs?technician_id={demo['tech1']}&status=scheduled",
                   as_="dispatcher1").get_json()["items"]
    job = [j for j in jobs if j["type"] == "repair"][0]
    return {"job": job["id"], "demo": demo}


def _prepare(api, world, needs):
    if needs == "completed":
        complete_job(api, world["job"])
    if needs == "photo":
        data = jpeg_bytes(4242)
        world["sha"] = upload_blob(api, "tech1", data, "image/jpeg")
        pushed = sync_push(api, "tech1", [("photo.attach", world["job"], {
            "photo_id": new_uuid(), "sha256": world["sha"]})]).get_json()
        assert pushed["results"][0]["status"] == "applied"
    world["new_data"] = jpeg_bytes(777)
    world["new_sha"] = sha(world["new_data"])


def _snapshot(api, app, world):
    from fieldapp.extensions import db
    from fieldapp.models import Blob, ContactAttempt, Customer, Job, JobEvent, Note

    with app.app_context():
        counts = {m.__name__: db.session.query(m).count()
                  for m in (Job, Customer, JobEvent, ContactAttempt, Note, Blob)}
    job = api.get(f"/api/v1/jobs/{world['job']}", as_="admin").get_json()
    return counts, {k: job[k] for k in ("status", "technician_id", "scheduled_start",
                                        "scheduled_end", "updated_at", "review")}


@pytest.mark.parametrize("endpoint,role", CASES,
                         ids=[f"{e[0]}-{role}" for e, role in CASES])
def test_role_matrix(api, app, world, endpoint, role):
    name, method, path, body, allowed, success, needs = endpoint
    _prepare(api, world, needs)
    user = USERS[role]
    api.login(user)
    url = path.format(**{k: v for k, v in world.items() if isinstance(v, str)})
    kwargs = {}
    if body is not None:
        kwargs["json"] = body(world)
    if name == "blobs.put":
        kwargs = {"data": world["new_data"], "content_type": "image/jpeg"}
    before = _snapshot(api, app, world)
    response = api.call(method, url, user, **kwargs)

    if role in allowed:
        assert response.status_code == success, (response.status_code,
                                                 response.get_data(as_text=True)[:500])
        if name == "jobs.list" and role.endswith("technician"):
            items = response.get_json()["items"]
            assert items and {j["technician_id"] for j in items} == {world["demo"][user]}
        if name == "sync.pull" and role != "technician":
            assert world["job"] not in [j["id"] for j in response.get_json()["changes"]["jobs"]]
        if name == "sync.pull" and role == "technician":
            assert world["job"] in [j["id"] for j in response.get_json()["changes"]["jobs"]]
        return

    assert response.status_code in (403, 404), (response.status_code,
                                                response.get_data(as_text=True)[:500])
    if role == "other_technician" and "{job}" in path and method == "GET":
        assert response.status_code == 404  # not theirs: as if it did not exist
    if method != "HEAD":
        error = response.get_json()
        assert set(error) == {"error", "message", "details"}, error
        assert error["error"] in ("forbidden", "job_not_found", "not_found")
    assert _snapshot(api, app, world) == before


@pytest.mark.parametrize("role", list(USERS))
def test_sync_push_changes_only_the_pushers_own_jobs(api, world, role):
    """Push answers per mutation: on a job that is not theirs every role gets `rejected`
    with `job_not_found` (the sync form of 404) and the job does not change."""
    user = USERS[role]
    before = api.get(f"/api/v1/jobs/{world['job']}", as_="admin").get_json()
    response = sync_push(api, user, [("job.status", world["job"], {"status": "en_route"}),
                                     ("job.note", world["job"], {"text": "hello"})])
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    after = api.get(f"/api/v1/jobs/{world['job']}", as_="admin").get_json()
    if role == "technician":
        assert [r["status"] for r in results] == ["applied", "applied"]
        assert after["status"] == "en_route"
        return
    assert [(r["status"], r.get("reason")) for r in results] == [
        ("rejected", "job_not_found")] * 2
    assert after["status"] == before["status"] and after["events"] == before["events"]
    assert after["notes"] == before["notes"]


def test_push_with_another_devices_id_refused(api, world):
    api.login("tech1")
    api.login("tech2")
    response = api.post("/api/v1/sync/push", as_="tech2", json={
        "device_id": api.devices["tech1"], "mutations": [
            {"seq": 1, "id": new_uuid(), "type": "job.status", "job_id": world["job"],
             "at": "2026-11-24T01:00:00Z", "args": {"status": "en_route"}}]})
    assert response.status_code == 403
    assert response.get_json()["error"] == "device_mismatch"
    assert api.get(f"/api/v1/jobs/{world['job']}", as_="admin").get_json()["status"] == \
        "scheduled"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_anonymous_gets_401_except_public(api, world, endpoint):
    name, method, path, body, *_ = endpoint
    world.setdefault("sha", "0" * 64)
    world.setdefault("new_sha", "1" * 64)
    url = path.format(**{k: v for k, v in world.items() if isinstance(v, str)})
    response = api.call(method, url, None, **({"json": body(world)} if body else {}))
    if name == "openapi.json":
        assert response.status_code == 200
        return
    assert response.status_code == 401
    if method != "HEAD":
        assert response.get_json()["error"] == "unauthorized"

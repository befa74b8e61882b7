"""Every page and API endpoint of the desk against every role: dispatchers and admins may,
supervisors and technicians get 403 and change nothing, anonymous visitors are sent to sign in
(pages) or get 401 (API). The settings page is the admins' alone."""
import pytest

from tests.support.deskkit import Desk, intake_form, sh, z
from tests.support.helpers import jpeg_bytes, new_uuid, sync_push, upload_blob
from tests.support.web_kit import csrf_from

ROLES = {"technician": "tech1", "supervisor": "supervisor1", "dispatcher": "dispatcher1",
         "admin": "admin"}
DESK = {"dispatcher", "admin"}
ADMIN = {"admin"}


@pytest.fixture
def world(app, api, demo):
    """A repair job of tech1, an unassigned job, a complaint with an evidence photo, and
    late evidence (a conflict) on a job reassigned away from tech1."""
    jobs = api.get("/api/v1/jobs", as_="dispatcher1").get_json()["items"]
    mine = [j for j in jobs if j["technician_id"] == demo["tech1"] and j["type"] == "repair"][0]
    queue = [j for j in jobs if j["technician_id"] is None][0]
    photo = upload_blob(api, "dispatcher1", jpeg_bytes(99), "image/jpeg")
    complaint = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "job_id": mine["id"], "about": "technician", "content": "迟到", "severity": "major",
        "evidence_sha256": photo}).get_json()
    moved = [j for j in jobs if j["technician_id"] == demo["tech1"] and j["type"] == "delivery"][0]
    api.patch(f"/api/v1/jobs/{moved['id']}", as_="dispatcher1",
              json={"technician_id": demo["tech2"]})
    pushed = sync_push(api, "tech1", [("job.note", moved["id"], {"text": "已到楼下"})])
    assert pushed.get_json()["results"][0]["status"] == "conflict"
    conflict = api.get(f"/api/v1/jobs/{moved['id']}", as_="dispatcher1").get_json()["conflicts"][0]
    return {"job": mine["id"], "queue": queue["id"], "complaint": complaint["id"],
            "moved": moved["id"], "conflict": conflict["id"], "demo": demo}


# (name, method, path, form builder, allowed, success statuses)
PAGES = [
    ("board", "GET", "/dispatch/", None, DESK, {200}),
    ("board.day", "GET", "/dispatch/?day=2026-11-25", None, DESK, {200}),
    ("board.json", "GET", "/dispatch/board.json", None, DESK, {200}),
    ("board.stamp", "GET", "/dispatch/board.json?only=stamp", None, DESK, {200}),
    ("intake.get", "GET", "/dispatch/intake", None, DESK, {200}),
    ("intake.post", "POST", "/dispatch/intake", lambda w: intake_form(), DESK, {302}),
    ("lookup", "GET", "/dispatch/customers/lookup?phone=13912340003", None, DESK, {200}),
    ("job", "GET", "/dispatch/jobs/{job}", None, DESK, {200}),
    ("job.schedule", "POST", "/dispatch/jobs/{queue}/schedule",
     lambda w: {"technician_id": str(w["demo"]["tech2"]), "day": "2026-11-26",
                "start": "09:00", "end": "10:00"}, DESK, {302}),
    ("job.cancel", "POST", "/dispatch/jobs/{queue}/cancel", lambda w: {"reason": "顾客取消"},
     DESK, {302}),
    ("job.contact", "POST", "/dispatch/jobs/{job}/contact",
     lambda w: {"outcome": "reached", "note": "约好明天"}, DESK, {302}),
    ("job.resolve", "POST", "/dispatch/jobs/{moved}/conflicts/{conflict}/resolve",
     lambda w: {"resolution": "备注已转给李师傅"}, DESK, {302}),
    ("jobs", "GET", "/dispatch/jobs?q=139", None, DESK, {200}),
    ("jobs.csv", "GET", "/dispatch/jobs.csv", None, DESK, {200}),
    ("breaches", "GET", "/dispatch/breaches", None, DESK, {200}),
    ("complaints", "GET", "/dispatch/complaints", None, DESK, {200}),
    ("complaints.csv", "GET", "/dispatch/complaints.csv", None, DESK, {200}),
    ("complaint.new.get", "GET", "/dispatch/complaints/new", None, DESK, {200}),
    ("complaint.new.post", "POST", "/dispatch/complaints/new",
     lambda w: {"name": "吴先生", "phone": "13912340004", "about": "product",
                "severity": "general", "content": "床板又开裂"}, DESK, {302}),
    ("complaint", "GET", "/dispatch/complaints/{complaint}", None, DESK, {200}),
    ("complaint.move", "POST", "/dispatch/complaints/{complaint}/move",
     lambda w: {"status": "escalated", "note": "已报主管"}, DESK, {302}),
    ("complaint.contact", "POST", "/dispatch/complaints/{complaint}/contact",
     lambda w: {"outcome": "reached", "satisfied": "no", "note": "仍不满意"}, DESK, {302}),
    ("complaint.job", "POST", "/dispatch/complaints/{complaint}/jobs",
     lambda w: {"type": "inspection", "address": "上海市静安区延平路 135 号",
                "problem": "回访查看"}, DESK, {302}),
    ("complaint.evidence", "GET", "/dispatch/complaints/{complaint}/evidence", None, DESK,
     {200}),
    ("settings.get", "GET", "/dispatch/settings", None, ADMIN, {200}),
    ("settings.post", "POST", "/dispatch/settings",
     lambda w: {"working_weekdays": ["0", "1", "2", "3", "4"], "day_start": "09:00",
                "day_end": "18:00", "holidays": "", "warn_percent": "30",
                "offline_after_minutes": "120",
                **{f"{k}__amount": "5" for k in
                   ("first_contact", "response", "resolution__repair",
                    "resolution__delivery", "resolution__installation",
                    "resolution__inspection", "complaint_escalation",
                    "complaint_coordination")},
                **{f"{k}__unit": "hours" for k in
                   ("first_contact", "response", "resolution__repair",
                    "resolution__delivery", "resolution__installation",
                    "resolution__inspection", "complaint_escalation",
                    "complaint_coordination")}}, ADMIN, {302}),
]

API = [
    ("complaints.create", "POST", "/api/v1/complaints",
     lambda w: {"customer": {"name": "郑女士", "phone": "13912340005"}, "about": "service",
                "content": "电话没人接", "severity": "general"}, 201),
    ("complaints.list", "GET", "/api/v1/complaints?status=open", None, 200),
    ("complaints.get", "GET", "/api/v1/complaints/{complaint}", None, 200),
    ("complaints.patch", "PATCH", "/api/v1/complaints/{complaint}",
     lambda w: {"status": "escalated", "note": "已报赵主管"}, 200),
    ("complaints.contact", "POST", "/api/v1/complaints/{complaint}/contacts",
     lambda w: {"outcome": "reached", "satisfied": False}, 201),
    ("complaints.job", "POST", "/api/v1/complaints/{complaint}/jobs",
     lambda w: {"type": "repair"}, 201),
]


def snapshot(app):
    from fieldapp.extensions import db
    from fieldapp.models import (
        Complaint,
        ComplaintContact,
        ComplaintEvent,
        ComplaintJob,
        Conflict,
        ContactAttempt,
        Job,
        JobEvent,
        Setting,
        SettingChange,
    )

    with app.app_context():
        counts = {m.__name__: db.session.query(m).count()
                  for m in (Job, JobEvent, ContactAttempt, Complaint, ComplaintEvent,
                            ComplaintContact, ComplaintJob, Setting, SettingChange)}
        counts["open_conflicts"] = db.session.query(Conflict).filter(
            Conflict.resolved_at.is_(None)).count()
        counts["statuses"] = sorted((j.id, j.status, j.technician_id)
                                    for j in db.session.query(Job))
        counts["complaints"] = sorted((c.id, c.status) for c in db.session.query(Complaint))
        return counts


def fill(path: str, world: dict) -> str:
    return path.format(**{k: v for k, v in world.items() if k != "demo"})


@pytest.mark.parametrize("page,role", [(p, r) for p in PAGES for r in ROLES],
                         ids=[f"{p[0]}-{r}" for p in PAGES for r in ROLES])
def test_pages_by_role(app, world, page, role):
    name, method, path, form, allowed, success = page
    desk = Desk(app, ROLES[role])
    before = snapshot(app)
    url = fill(path, world)
    if method == "GET":
        response = desk.get(url)
    else:
        response = desk.post(url, data=form(world))
    if role in allowed:
        assert response.status_code in success, (name, role, response.status_code,
                                                 response.get_data(as_text=True)[:1500])
        if response.status_code == 302:
            assert "/login" not in response.headers["Location"]
    else:
        assert response.status_code == 403, (name, role, response.status_code)
        assert snapshot(app) == before, f"{name} by {role} changed something"


@pytest.mark.parametrize("page", PAGES, ids=[p[0] for p in PAGES])
def test_pages_send_anonymous_visitors_to_sign_in(app, client, world, page):
    name, method, path, form, *_ = page
    url = fill(path, world)
    before = snapshot(app)
    if method == "GET":
        response = client.get(url)
    else:  # with a valid token from the sign-in page, but nobody signed in
        token = csrf_from(client.get("/login").get_data(as_text=True))
        response = client.post(url, data={**form(world), "csrf_token": token})
    assert response.status_code == 302 and "/login" in response.headers["Location"], name
    assert snapshot(app) == before


def test_a_post_without_the_csrf_token_is_refused(app, world):
    desk = Desk(app, "dispatcher1")
    before = snapshot(app)
    response = desk.client.post("/dispatch/intake", data=intake_form())
    assert response.status_code == 400
    assert snapshot(app) == before


@pytest.mark.parametrize("endpoint,role", [(e, r) for e in API for r in ROLES],
                         ids=[f"{e[0]}-{r}" for e in API for r in ROLES])
def test_api_by_role(app, api, world, endpoint, role):
    name, method, path, body, success = endpoint
    before = snapshot(app)
    kwargs = {"json": body(world)} if body else {}
    response = api.call(method, fill(path, world), as_=ROLES[role], **kwargs)
    # Supervisors read complaints (they are notified of escalations); only the desk changes.
    if role in DESK or (role == "supervisor" and method == "GET"):
        assert response.status_code == success, (name, role, response.get_json())
    else:
        assert response.status_code == 403, (name, role, response.status_code)
        assert response.get_json()["error"] == "forbidden"
        assert snapshot(app) == before


@pytest.mark.parametrize("endpoint", API, ids=[e[0] for e in API])
def test_api_needs_a_token(app, api, world, endpoint):
    name, method, path, body, _ = endpoint
    kwargs = {"json": body(world)} if body else {}
    response = api.call(method, fill(path, world), **kwargs)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_the_desk_links_settings_for_admins_only(app, world):
    assert 'href="/dispatch/settings"' in Desk(app, "admin").html("/dispatch/")
    assert 'href="/dispatch/settings"' not in Desk(app, "dispatcher1").html("/dispatch/")


def test_complaint_ids_that_are_not_uuids_are_404(app, api, world):
    response = api.get("/api/v1/complaints/not-a-uuid", as_="dispatcher1")
    assert response.status_code == 404 and response.get_json()["error"] == "complaint_not_found"
    assert Desk(app, "dispatcher1").get("/dispatch/complaints/" + new_uuid()).status_code == 404


def test_z_helper_is_utc():
    assert z(sh(2026, 11, 24, 9, 0)) == "2026-11-24T01:00:00Z"

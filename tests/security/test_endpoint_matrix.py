"""Every route the app serves, discovered from app.url_map, against every role.

Each endpoint must be classified in ACCESS below (who gets past authorization); an endpoint
added later without a classification fails `test_every_endpoint_is_classified`, naming it.
Then, for every endpoint and method, with the path parameters filled in with a job that
belongs to tech1 (or a well-formed id that does not exist):
- anonymous callers get 401 (API, JSON error) or are sent to /login (web), unless public;
- the roles not allowed get 403, or 404 (the API's "not yours"), and nothing changes;
- the allowed roles get neither 401 nor 403, and no endpoint answers a 5xx;
- tech2 (another technician) never reads or changes tech1's job.
The detailed success statuses of the main API endpoints are in tests/api/test_role_matrix.py.
"""
from __future__ import annotations

import re

import pytest
from werkzeug.routing.converters import NumberConverter

from tests.support.helpers import jpeg_bytes, new_uuid, sha, sync_push, upload_blob
from tests.support.web_kit import signed_in_client

TECH, OTHER, DISPATCHER, SUPERVISOR, ADMIN = (
    "tech1", "tech2", "dispatcher1", "supervisor1", "admin")
USERS = (TECH, OTHER, DISPATCHER, SUPERVISOR, ADMIN)
EVERYONE = frozenset(USERS)
DISPATCH = frozenset({DISPATCHER, ADMIN})
REVIEW = frozenset({SUPERVISOR, ADMIN})
OFFICE = DISPATCH | REVIEW
TECHS = frozenset({TECH, OTHER})
PUBLIC = "public"  # no sign-in at all (login, static, the PWA shell, survey, seal check)

# endpoint -> roles that get past authorization (or PUBLIC). tech2 is "another technician":
# where tech1 is allowed on tech1's own job, tech2 must get 403/404 (see OWN_JOB).
ACCESS: dict[str, frozenset | str] = {
    # API
    "api_auth.login": PUBLIC, "api-docs.openapi_json": PUBLIC, "api_docs.reference": PUBLIC,
    "api_auth.logout": EVERYONE, "api_auth.me": EVERYONE,
    "api_sync.pull": EVERYONE, "api_sync.push": EVERYONE, "api_sync.put_blob": EVERYONE,
    "api_sync.get_blob": EVERYONE,
    "api_jobs.list_jobs": EVERYONE, "api_jobs.get_job": OFFICE | {TECH},
    "api_jobs.create_job": DISPATCH, "api_jobs.patch_job": DISPATCH,
    "api_jobs.contact": DISPATCH, "api_jobs.add_note": OFFICE, "api_jobs.review": REVIEW,
    "api_jobs.report_pdf": OFFICE,
    "api_complaints.create_complaint": DISPATCH, "api_complaints.list_complaints": OFFICE,
    "api_complaints.get_complaint": OFFICE, "api_complaints.patch_complaint": DISPATCH,
    "api_complaints.add_contact": DISPATCH, "api_complaints.spawn_job": DISPATCH,
    "api_notifications.list_notifications": EVERYONE,
    "api_notifications.read_notification": EVERYONE, "api_notifications.read_all": EVERYONE,
    "api_parts.list_parts": EVERYONE, "api_parts.get_parts": EVERYONE,
    "api_parts.decide": REVIEW, "api_parts.release": OFFICE,
    "api_return_visits.list_return_visits": OFFICE,
    "api_return_visits.record_result": OFFICE,
    "api_return_visits.resend_survey": OFFICE,
    "api_takebacks.list_takebacks": EVERYONE, "api_takebacks.get_takeback": EVERYONE,
    "api_takebacks.receipt_pdf": OFFICE, "api_takebacks.slip_pdf": OFFICE,
    # an admin: every device; anyone else: their own (another's is 403, tests/api/test_devices.py)
    "api_devices.list_devices": EVERYONE, "api_devices.revoke_device": EVERYONE,
    # the administration (issue 20): admins only
    "admin.devices": frozenset({ADMIN}), "admin.revoke_device": frozenset({ADMIN}),
    # shared web
    "static": PUBLIC, "auth.index": PUBLIC, "auth.login": PUBLIC, "auth.logout": PUBLIC,
    "web.set_language": PUBLIC, "survey.survey": PUBLIC, "verify.seal_page": PUBLIC,
    # the phone: the shell loads offline and signed out; data only through the API
    "pwa.shell": PUBLIC, "pwa.manifest": PUBLIC, "pwa.rules": PUBLIC, "pwa.registry_module": PUBLIC,
    "pwa.service_worker": PUBLIC, "pwa.version": PUBLIC, "pwa.web_session": PUBLIC,
    "pwa.device_token": TECHS,
}
for _endpoint in ("board", "board_json", "breaches", "complaints", "complaints_csv",
                  "complaint_page", "complaint_contact", "complaint_evidence", "complaint_job",
                  "complaint_move", "new_complaint", "customer_lookup", "deliveries",
                  "delivery_retry", "intake", "jobs", "jobs_csv", "job_page", "cancel",
                  "resolve_conflict", "contact", "schedule", "notifications",
                  "notifications_read", "return_visits", "return_visit_result", "resend_survey",
                  "settings",
                  "takebacks", "takeback_pdf", "takeback_settings"):
    ACCESS[f"dispatch.{_endpoint}"] = DISPATCH
ACCESS["dispatch.settings"] = frozenset({ADMIN})  # business settings: admin only
for _endpoint in ("queue", "full_image", "complaint_page", "job_page", "decide", "report",
                  "kpis", "notifications", "notifications_read", "parts_queue",
                  "parts_decide", "parts_release", "parts_thumb", "parts_log",
                  "parts_log_csv", "takeback_pdf", "thumb", "verify_page"):
    ACCESS[f"review.{_endpoint}"] = REVIEW

# Endpoints whose <job_id> is tech1's job: tech1 may, tech2 may not.
OWN_JOB = {"api_jobs.get_job"}
IGNORED_METHODS = {"OPTIONS", "HEAD"}
HOME_PAGES = {"/dispatch/": DISPATCH, "/review/": REVIEW}


def _rules(app):
    return [rule for rule in app.url_map.iter_rules()]


def test_every_endpoint_is_classified(app):
    """A new route must say who may use it: add it to ACCESS (and to the tests of its face)."""
    unclassified = sorted(f"{rule.endpoint} {rule.rule}" for rule in _rules(app)
                          if rule.endpoint not in ACCESS)
    assert not unclassified, (
        "endpoints nobody classified for the authorization matrix (add them to ACCESS in "
        f"tests/security/test_endpoint_matrix.py): {unclassified}")
    gone = sorted(set(ACCESS) - {rule.endpoint for rule in _rules(app)})
    assert not gone, f"ACCESS names endpoints the app no longer has: {gone}"


@pytest.fixture
def world(api, demo, app):
    jobs = api.get(f"/api/v1/jobs?technician_id={demo['tech1']}&status=scheduled",
                   as_=DISPATCHER).get_json()["items"]
    job = [j for j in jobs if j["type"] == "repair"][0]
    data = jpeg_bytes(9191)
    digest = upload_blob(api, TECH, data, "image/jpeg")
    pushed = sync_push(api, TECH, [("photo.attach", job["id"], {
        "photo_id": new_uuid(), "sha256": digest})]).get_json()
    assert pushed["results"][0]["status"] == "applied"
    return {"job_id": job["id"], "sha256": digest}


def _fill(rule, world) -> str:
    values = {}
    for name in rule.arguments:
        if name in world:
            values[name] = world[name]
        elif isinstance(rule._converters[name], NumberConverter):
            values[name] = 987654
        elif name == "filename":
            values[name] = "app/js/main.js"
        elif name == "kind":
            values[name] = "receipt"
        elif name == "code":
            values[name] = "en"
        else:
            values[name] = new_uuid()
    return rule.build(values, append_unknown=False)[1]


def _cases(app, world):
    for rule in sorted(_rules(app), key=lambda r: r.rule):
        for method in sorted(rule.methods - IGNORED_METHODS):
            yield rule, method, _fill(rule, world)


def _state(app) -> dict:
    from fieldapp.extensions import db
    from fieldapp.models import Base

    with app.app_context():
        return {table.name: db.session.execute(table.select()).all()
                for table in Base.metadata.sorted_tables
                if table.name not in ("devices", "login_failures", "notifications")}


def _call(client, method, url, headers=None):
    body = {} if method in ("POST", "PUT", "PATCH") else None
    if url.startswith("/api/"):
        return client.open(url, method=method, headers=headers or {}, json=body)
    return client.open(url, method=method, headers=headers or {}, data=body)


def test_anonymous(app, client, world):
    """No token, no session: the API says 401 in its JSON error shape; web pages send the
    caller to /login (or 401 for JSON), and nothing changes."""
    problems = []
    before = _state(app)
    for rule, method, url in _cases(app, world):
        if ACCESS.get(rule.endpoint) == PUBLIC:
            continue
        response = _call(client, method, url)
        if url.startswith("/api/"):
            ok = response.status_code == 401 and response.is_json and \
                response.get_json().get("error") == "unauthorized"
        elif method == "GET":
            ok = response.status_code in (302, 303) and "/login" in response.headers.get(
                "Location", "") or response.status_code == 401
        else:  # a POST without a CSRF token stops at CSRF, before anything else
            ok = response.status_code in (302, 303, 400, 401)
        if not ok:
            problems.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
    assert not problems, "anonymous callers got through:\n" + "\n".join(problems)
    assert _state(app) == before


@pytest.mark.parametrize("username", USERS)
def test_api_roles(app, api, world, username):
    """Every API endpoint with this user's bearer token."""
    problems = []
    for rule, method, url in _cases(app, world):
        access = ACCESS.get(rule.endpoint)
        if not url.startswith("/api/") or access in (PUBLIC, None):
            continue
        if rule.endpoint == "api_auth.logout":
            continue  # revokes the token used for the rest; covered in test_auth_api.py
        before = _state(app)
        body = {} if method != "GET" else None
        if rule.endpoint == "api_sync.push":  # an empty batch from the caller's own device
            api.login(username) if username not in api.tokens else None
            body = {"device_id": api.devices[username], "mutations": []}
        response = api.call(method, url, username, json=body)
        status = response.status_code
        allowed = username in access and not (username == OTHER and rule.endpoint in OWN_JOB)
        if status >= 500:
            problems.append(f"{method} {url}: {status} server error")
        elif allowed and status in (401, 403):
            problems.append(f"{method} {url}: {status} for an allowed role")
        elif not allowed:
            if status not in (403, 404):
                problems.append(f"{method} {url}: {status}, expected 403/404")
            elif _state(app) != before:
                problems.append(f"{method} {url}: refused but the database changed")
        if status in (401, 403, 404) and method != "HEAD" and response.is_json:
            if set(response.get_json()) != {"error", "message", "details"}:
                problems.append(f"{method} {url}: error body {response.get_json()}")
    assert not problems, f"{username}:\n" + "\n".join(problems)


@pytest.mark.parametrize("username", USERS)
def test_web_roles(app, world, username):
    """Every page under /dispatch/, /review/ and /app/ signed in as this user (session
    cookie). Pages of another face answer 403 and POSTs to them change nothing."""
    client, token = signed_in_client(app, username)
    problems = []
    for rule, method, url in _cases(app, world):
        access = ACCESS.get(rule.endpoint)
        if url.startswith("/api/") or access in (PUBLIC, None):
            continue
        before = _state(app) if method != "GET" else None
        data = {"csrf_token": token} if method != "GET" else None
        response = client.open(url, method=method, data=data)
        status = response.status_code
        allowed = username in access
        if status >= 500:
            problems.append(f"{method} {url}: {status} server error")
        elif allowed and status in (401, 403):
            problems.append(f"{method} {url}: {status} for an allowed role")
        elif allowed and method == "GET" and not rule.arguments and status != 200:
            problems.append(f"{method} {url}: {status}, expected 200")
        elif not allowed:
            if status not in (401, 403):  # 401: /app/device-token wants a technician
                problems.append(f"{method} {url}: {status}, expected 403")
            elif before is not None and _state(app) != before:
                problems.append(f"{method} {url}: refused but the database changed")
    assert not problems, f"{username}:\n" + "\n".join(problems)


def test_other_technician_never_sees_the_job(api, world):
    """tech2 against tech1's job through every way a technician reads: 404 / not listed."""
    assert api.get(f"/api/v1/jobs/{world['job_id']}", as_=OTHER).status_code == 404
    listed = api.get("/api/v1/jobs", as_=OTHER).get_json()["items"]
    assert world["job_id"] not in {j["id"] for j in listed}
    pulled = api.get("/api/v1/sync/pull", as_=OTHER).get_json()
    assert world["job_id"] not in {j["id"] for j in pulled["changes"]["jobs"]}
    for method in ("GET", "HEAD"):
        assert api.call(method, f"/api/v1/blobs/{world['sha256']}", OTHER).status_code == 404
        assert api.call(method, f"/api/v1/blobs/{world['sha256']}", TECH).status_code == 200


def test_head_blob_is_scoped_like_get(api, world):
    """HEAD answers 404 to a technician who neither uploaded the bytes nor has a job that
    uses them: no oracle for "this photo exists"."""
    other_bytes = jpeg_bytes(5151)
    digest = upload_blob(api, DISPATCHER, other_bytes, "image/jpeg")
    for user, expected in ((TECH, 404), (OTHER, 404), (DISPATCHER, 200), (SUPERVISOR, 200)):
        assert api.call("HEAD", f"/api/v1/blobs/{digest}", user).status_code == expected, user
    # the uploader's own bytes: the phone asks HEAD before it uploads again
    own = upload_blob(api, OTHER, jpeg_bytes(5252), "image/jpeg")
    assert api.call("HEAD", f"/api/v1/blobs/{own}", OTHER).status_code == 200
    assert api.call("HEAD", f"/api/v1/blobs/{sha(b'x')}", OTHER).status_code == 404


FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)


@pytest.mark.parametrize("username", [DISPATCHER, SUPERVISOR, ADMIN, TECH])
def test_every_form_carries_a_csrf_token(app, world, username):
    """Every POST form on every page this user can open (param-less pages, plus the job's
    own pages) has a hidden csrf_token."""
    client, _ = signed_in_client(app, username)
    problems, forms = [], 0
    for rule, method, url in _cases(app, world):
        access = ACCESS.get(rule.endpoint)
        if method != "GET" or url.startswith("/api/") or access in (PUBLIC, None):
            continue
        if username not in access or (rule.arguments - {"job_id"}):
            continue
        response = client.get(url)
        if not response.content_type.startswith("text/html") or response.status_code != 200:
            continue
        for attributes, inner in FORM_RE.findall(response.get_data(as_text=True)):
            if not re.search(r"method\s*=\s*[\"']?post", attributes, re.I):
                continue
            forms += 1
            if 'name="csrf_token"' not in inner:
                problems.append(f"{url}: form {attributes.strip()[:120]}")
    assert not problems, "POST forms without csrf_token:\n" + "\n".join(problems)
    if username in (DISPATCHER, SUPERVISOR):
        assert forms > 0


@pytest.mark.parametrize("username", [DISPATCHER, SUPERVISOR, ADMIN, TECH])
def test_every_web_post_refuses_a_missing_csrf_token(app, world, username):
    """Every non-API POST route, signed in as a role that may use it, without the token:
    400 and nothing stored."""
    client, _ = signed_in_client(app, username)
    problems, tried = [], 0
    before = _state(app)
    for rule, method, url in _cases(app, world):
        access = ACCESS.get(rule.endpoint)
        if method != "POST" or url.startswith("/api/"):
            continue
        if access != PUBLIC and username not in access:
            continue
        tried += 1
        response = client.post(url, data={"username": username, "password": "fieldapp-demo"})
        if response.status_code != 400:
            problems.append(f"POST {url} ({rule.endpoint}): {response.status_code}")
    assert tried > 0
    assert not problems, "POSTs accepted without a CSRF token:\n" + "\n".join(problems)
    assert _state(app) == before

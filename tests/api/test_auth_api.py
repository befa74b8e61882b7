"""Device sign-in over the API: tokens, failures, the rate limit, logout, hashed storage."""
import pytest

from tests.support.helpers import intake_body

LOGIN = "/api/v1/auth/login"


def login(client, username, password="fieldapp-demo", device="phone", **extra):
    return client.post(LOGIN, json={"username": username, "password": password,
                                    "device_name": device, **extra})


def assert_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error", "message", "details"}
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    if code is not None:
        assert body["error"] == code, body


@pytest.mark.parametrize("username,role", [("tech1", "technician"), ("tech2", "technician"),
                                           ("dispatcher1", "dispatcher"),
                                           ("supervisor1", "supervisor"), ("admin", "admin")])
def test_login_answers_token_device_and_user(client, demo, username, role):
    response = login(client, username)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= {"token", "device_id", "user"}
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    assert isinstance(body["device_id"], str) and len(body["device_id"]) == 36
    assert set(body["user"]) == {"id", "username", "role", "display_name"}
    assert body["user"] == {"id": demo[username], "username": username, "role": role,
                            "display_name": body["user"]["display_name"]}
    assert body["user"]["display_name"]
    assert "password" not in response.get_data(as_text=True).lower()
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json()["user"]["username"] == username
    assert me.get_json()["device_id"] == body["device_id"]


def test_each_login_is_its_own_device(client, demo):
    first = login(client, "tech1", device="phone A").get_json()
    second = login(client, "tech1", device="phone B").get_json()
    assert first["device_id"] != second["device_id"]
    assert first["token"] != second["token"]
    for body in (first, second):
        me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
        assert me.get_json()["device_id"] == body["device_id"]


def test_wrong_password_401(client, demo):
    assert_error(login(client, "tech1", "not-the-password"), 401, "invalid_credentials")


def test_unknown_user_401(client, demo):
    assert_error(login(client, "nobody"), 401, "invalid_credentials")


def test_wrong_password_and_unknown_user_answer_alike(client, demo):
    wrong = login(client, "tech1", "not-the-password").get_json()
    unknown = login(client, "nobody", "not-the-password").get_json()
    assert wrong == unknown


def test_inactive_user_401(app, client, demo):
    from fieldapp.extensions import db
    from fieldapp.models import User

    with app.app_context():
        db.session.get(User, demo["tech2"]).active = False
        db.session.commit()
    assert_error(login(client, "tech2"), 401, "invalid_credentials")


def test_too_many_failures_429(app, client, demo):
    assert app.config["LOGIN_FAILURE_LIMIT"] == "5 per minute;20 per hour"
    for _ in range(5):
        assert_error(login(client, "tech1", "guess"), 401, "invalid_credentials")
    assert_error(login(client, "tech1", "guess"), 429, "too_many_attempts")
    # Even the right password is refused while the limit holds.
    assert_error(login(client, "tech1"), 429, "too_many_attempts")


def test_successful_logins_do_not_count_as_failures(client, demo):
    for _ in range(8):
        assert login(client, "dispatcher1").status_code == 200


def test_limit_is_per_user_name(client, demo):
    for _ in range(5):
        login(client, "tech1", "guess")
    assert login(client, "tech1", "guess").status_code == 429
    assert login(client, "tech2").status_code == 200


def test_logout_revokes_token(client, demo):
    body = login(client, "tech1").get_json()
    auth = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/jobs", headers=auth).status_code == 200
    response = client.post("/api/v1/auth/logout", headers=auth)
    assert response.status_code == 204
    assert_error(client.get("/api/v1/jobs", headers=auth), 401, "unauthorized")
    assert_error(client.get("/api/v1/auth/me", headers=auth), 401, "unauthorized")
    assert_error(client.post("/api/v1/auth/logout", headers=auth), 401, "unauthorized")


def test_logout_revokes_only_that_device(client, demo):
    one = login(client, "tech1", device="A").get_json()
    two = login(client, "tech1", device="B").get_json()
    client.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {one['token']}"})
    assert client.get("/api/v1/jobs", headers={
        "Authorization": f"Bearer {two['token']}"}).status_code == 200


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer garbage",
                                    "Bearer " + "a" * 43, "Basic dGVjaDE6ZmllbGRhcHAtZGVtbw==",
                                    "Token abc"])
def test_missing_or_garbage_token_401(client, demo, header):
    headers = {} if header is None else {"Authorization": header}
    for method, path in [("GET", "/api/v1/jobs"), ("GET", "/api/v1/auth/me"),
                         ("POST", "/api/v1/auth/logout"), ("GET", "/api/v1/sync/pull")]:
        response = client.open(path, method=method, headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_session_cookie_is_not_an_api_credential(client, demo):
    # Signing in on the web does not authenticate API calls (bearer tokens only).
    page = client.get("/login")
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page.get_data(as_text=True)).group(1)
    signed_in = client.post("/login", data={"username": "dispatcher1",
                                            "password": "fieldapp-demo", "csrf_token": token})
    assert signed_in.status_code == 302
    assert_error(client.get("/api/v1/jobs"), 401, "unauthorized")


def test_tokens_stored_hashed(app, client, demo):
    from fieldapp.extensions import db
    from fieldapp.models import Device

    body = login(client, "tech1").get_json()
    with app.app_context():
        device = db.session.get(Device, body["device_id"])
        assert device.token_hash != body["token"]
        assert body["token"] not in device.token_hash
        assert len(device.token_hash) == 64
        rows = db.session.query(Device).all()
        assert all(body["token"] != d.token_hash for d in rows)


def test_technician_may_not_intake(api, demo):
    response = api.post("/api/v1/jobs", as_="tech1", json=intake_body())
    assert_error(response, 403, "forbidden")

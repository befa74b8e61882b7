"""Web sign-in: languages, CSRF, each role's face, refusals, the rate limit, safe redirects,
logout, cookies and security headers."""
import re
from urllib.parse import urlsplit

import pytest

from tests.support.web_kit import csrf_from

HOMES = {"tech1": "/app/", "tech2": "/app/", "dispatcher1": "/dispatch/",
         "supervisor1": "/review/", "admin": "/dispatch/"}
def login_page_token(client, path="/login") -> str:
    page = client.get(path)
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def sign_in(client, username, password="fieldapp-demo", path="/login", **extra):
    token = login_page_token(client)
    return client.post(path, data={"username": username, "password": password,
                                   "csrf_token": token, **extra})


def location_path(response) -> str:
    return urlsplit(response.headers["Location"]).path


def signed_in(client) -> bool:
    """Is the test client's session signed in? (/dispatch/ sends anonymous users to /login.)"""
    response = client.get("/")
    return location_path(response) != "/login"


# --- languages -----------------------------------------------------------------------------

def test_login_renders_in_chinese_by_default(client, demo):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="zh-CN"' in html
    assert "登录" in html
    assert "用户名" in html or "密码" in html
    assert ">Sign in<" not in html


def test_login_renders_in_english_for_accept_language_en(client, demo):
    response = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="en"' in html
    assert "Sign in" in html and "Password" in html
    assert "登录" not in html


def test_chinese_browser_gets_chinese(client, demo):
    html = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}
                      ).get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "登录" in html


def test_lang_switch(client, demo):
    response = client.get("/lang/en?next=/login")
    assert response.status_code == 302 and location_path(response) == "/login"
    html = client.get("/login").get_data(as_text=True)
    assert 'lang="en"' in html and "Sign in" in html
    # The choice beats the browser's header, and switches back.
    html = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "Sign in" in html
    client.get("/lang/zh_CN?next=/login")
    html = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "登录" in html


def test_lang_switch_refuses_outside_redirects(client, demo):
    for target in ("https://evil.example/", "//evil.example/x"):
        response = client.get(f"/lang/en?next={target}")
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")
        assert location_path(response) == "/"


def test_unknown_language_ignored(client, demo):
    client.get("/lang/fr?next=/login")
    assert 'lang="zh-CN"' in client.get("/login").get_data(as_text=True)


# --- CSRF ----------------------------------------------------------------------------------

def test_post_without_csrf_token_refused(client, demo):
    client.get("/login")
    response = client.post("/login", data={"username": "dispatcher1",
                                           "password": "fieldapp-demo"})
    assert response.status_code == 400
    assert not signed_in(client)
    assert client.get("/dispatch/").status_code == 302


def test_post_with_wrong_csrf_token_refused(client, demo):
    client.get("/login")
    response = client.post("/login", data={"username": "dispatcher1",
                                           "password": "fieldapp-demo",
                                           "csrf_token": "forged"})
    assert response.status_code == 400
    assert not signed_in(client)


def test_csrf_token_from_another_session_refused(app, client, demo):
    other = app.test_client()
    token = login_page_token(other)
    client.get("/login")
    response = client.post("/login", data={"username": "dispatcher1",
                                           "password": "fieldapp-demo", "csrf_token": token})
    assert response.status_code == 400
    assert not signed_in(client)


# --- each role's face ----------------------------------------------------------------------

@pytest.mark.parametrize("username", list(HOMES))
def test_each_role_lands_on_its_face(client, demo, username):
    response = sign_in(client, username)
    assert response.status_code == 302
    assert location_path(response) == HOMES[username]
    face = client.get(HOMES[username])
    assert face.status_code == 200
    # Signed in: /login and / send the user to their face too.
    assert location_path(client.get("/login")) == HOMES[username]
    assert location_path(client.get("/")) == HOMES[username]


@pytest.mark.parametrize("username,path", [
    ("tech1", "/dispatch/"), ("tech1", "/review/"), ("dispatcher1", "/review/"),
    ("supervisor1", "/dispatch/"),
])
def test_wrong_face_is_403(client, demo, username, path):
    sign_in(client, username)
    response = client.get(path)
    assert response.status_code == 403


def test_admin_opens_both_office_faces(client, demo):
    sign_in(client, "admin")
    assert client.get("/dispatch/").status_code == 200
    assert client.get("/review/").status_code == 200


@pytest.mark.parametrize("path", ["/dispatch/", "/review/"])
def test_anonymous_office_face_redirects_to_login(client, demo, path):
    response = client.get(path)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login"
    assert f"next={path.replace('/', '%2F')}" in target.query or f"next={path}" in target.query


def test_next_inside_the_face_is_followed(client, demo):
    response = sign_in(client, "dispatcher1", path="/login?next=/dispatch/%3Fview%3Dboard")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dispatch/?view=board")


@pytest.mark.parametrize("target", [
    "https://evil.example", "https://evil.example/dispatch/", "//evil.example/dispatch/",
    "http:evil.example", "/\\evil.example", "javascript:alert(1)", "evil.example",
    "/review/",  # a face the dispatcher may not use
])
def test_open_redirect_refused(client, demo, target):
    from urllib.parse import quote

    response = sign_in(client, "dispatcher1", path=f"/login?next={quote(target, safe='')}")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost")
    assert location.path == "/dispatch/"
    assert "evil" not in response.headers["Location"]


# --- failures and the rate limit -----------------------------------------------------------

def test_wrong_password_401_page(client, demo):
    response = sign_in(client, "dispatcher1", "wrong-password")
    assert response.status_code == 401
    assert "text/html" in response.content_type
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_unknown_user_401_page(client, demo):
    response = sign_in(client, "nobody", "whatever-password")
    assert response.status_code == 401
    assert not signed_in(client)


def test_missing_fields_not_signed_in(client, demo):
    token = login_page_token(client)
    response = client.post("/login", data={"username": "dispatcher1", "csrf_token": token})
    assert response.status_code == 400
    assert not signed_in(client)


def test_rate_limit_429_after_repeated_failures(app, client, demo):
    assert app.config["LOGIN_FAILURE_LIMIT"] == "5 per minute;20 per hour"
    for _ in range(5):
        assert sign_in(client, "dispatcher1", "wrong-password").status_code == 401
    locked = sign_in(client, "dispatcher1", "wrong-password")
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.get_data(as_text=True)
    # The right password does not get through while the limit holds.
    assert sign_in(client, "dispatcher1").status_code == 429
    assert not signed_in(client)


def test_failed_logins_are_recorded(app, client, demo):
    from fieldapp.extensions import db
    from fieldapp.models import LoginFailure

    sign_in(client, "dispatcher1", "wrong-password")
    with app.app_context():
        assert [f.username for f in db.session.query(LoginFailure).all()] == ["dispatcher1"]


# --- logout --------------------------------------------------------------------------------

def test_logout_requires_post_with_csrf(client, demo):
    sign_in(client, "dispatcher1")
    assert signed_in(client)
    assert client.get("/logout").status_code == 405
    assert signed_in(client)
    assert client.post("/logout").status_code == 400
    assert signed_in(client)
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert signed_in(client)
    token = csrf_from(client.get("/dispatch/").get_data(as_text=True))
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and location_path(response) == "/login"
    assert not signed_in(client)
    assert client.get("/dispatch/").status_code == 302


# --- cookies and headers -------------------------------------------------------------------

def _set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_session_cookie_httponly_samesite_lax(client, demo):
    response = sign_in(client, "dispatcher1", remember="y")
    cookies = _set_cookies(response)
    session = [c for c in cookies if c.startswith("session=")]
    assert session, cookies
    attrs = [a.strip().lower() for a in session[0].split(";")]
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "httponly" in remember[0].lower()


def test_cookies_are_secure_in_production(monkeypatch, tmp_path):
    from fieldapp.config import from_environment

    monkeypatch.setenv("FIELDAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-production-secret-of-32-bytes-or-more")
    config = from_environment(str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_production_needs_a_secret_key(monkeypatch, tmp_path):
    from fieldapp.config import from_environment

    monkeypatch.setenv("FIELDAPP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError):
        from_environment(str(tmp_path))


@pytest.mark.parametrize("key", ["short", "a-production-secret", "x" * 31, "密钥" * 5])
def test_production_refuses_a_short_secret_key(monkeypatch, tmp_path, key):
    from fieldapp import create_app
    from fieldapp.config import from_environment

    monkeypatch.setenv("FIELDAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="at least 32 random bytes"):
        from_environment(str(tmp_path))
    # Handed straight to the factory, too.
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    with pytest.raises(RuntimeError, match="SECRET_KEY has"):
        create_app({"SECRET_KEY": key, "SQLALCHEMY_DATABASE_URI": "sqlite://",
                    "TESTING": True})


def test_production_accepts_a_32_byte_secret_key(monkeypatch, tmp_path):
    from fieldapp.config import from_environment

    monkeypatch.setenv("FIELDAPP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert from_environment(str(tmp_path))["SECRET_KEY"] == "k" * 32


def test_short_key_is_fine_outside_production(app):
    assert app.config["SECRET_KEY"] == "test-secret"


@pytest.mark.parametrize("base,sent", [("https://fieldapp.example.com", True),
                                       ("HTTPS://fieldapp.example.com/", True),
                                       ("http://127.0.0.1:5000", False),
                                       ("http://fieldapp.example.com", False)])
def test_hsts_only_behind_tls(db_url, tmp_path, base, sent):
    from fieldapp import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url,
                      "SECRET_KEY": "test-secret", "PUBLIC_BASE_URL": base,
                      "BLOB_ROOT": str(tmp_path / "blobs")})
    for path in ("/login", "/api/v1/openapi.json", "/nope"):
        header = app.test_client().get(path).headers.get("Strict-Transport-Security")
        if sent:
            assert header == "max-age=31536000", path
        else:
            assert header is None, path


def _csp(response) -> dict:
    policy = response.headers["Content-Security-Policy"]
    out = {}
    for directive in policy.split(";"):
        parts = directive.split()
        if parts:
            out[parts[0]] = parts[1:]
    return out


@pytest.mark.parametrize("path", ["/login", "/api/v1/docs", "/dispatch/", "/nope"])
def test_security_headers(client, demo, path):
    response = client.get(path)
    csp = _csp(response)
    script = csp.get("script-src", csp.get("default-src"))
    assert script is not None
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script
    assert csp["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_login_page_has_no_inline_script(client, demo):
    html = client.get("/login").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers

"""Signing out ends the web session on the server: the old session cookie and the remember-me
cookie, replayed by whoever kept a copy, open nothing; the same after a new password or a
deactivation. A technician's old session can no longer be traded for a device token."""
from __future__ import annotations

import pytest

from tests.support.helpers import ApiClient
from tests.support.web_kit import csrf_from, signed_in_client


def cookies_of(client) -> dict[str, str]:
    return {name: client.get_cookie(name).value for name in ("session", "remember_token")
            if client.get_cookie(name) is not None}


def replay(app, cookies: dict[str, str]):
    """A fresh browser holding only these stolen cookies."""
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value, domain="localhost")
    return client


def opens_dispatch(client) -> bool:
    return client.get("/dispatch/").status_code == 200


def sign_out(client) -> None:
    token = csrf_from(client.get("/dispatch/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def remembered_dispatcher(app):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "dispatcher1",
                                           "password": "fieldapp-demo", "csrf_token": token,
                                           "remember": "y"})
    assert response.status_code == 302
    cookies = cookies_of(client)
    assert set(cookies) == {"session", "remember_token"}
    # Before anything happens, each cookie alone opens the desk (else the test proves nothing).
    assert opens_dispatch(replay(app, {"session": cookies["session"]}))
    assert opens_dispatch(replay(app, {"remember_token": cookies["remember_token"]}))
    return client, cookies


def assert_cookies_dead(app, cookies):
    assert not opens_dispatch(replay(app, {"session": cookies["session"]}))
    assert not opens_dispatch(replay(app, {"remember_token": cookies["remember_token"]}))
    assert not opens_dispatch(replay(app, cookies))


def test_logout_ends_the_session_and_the_remember_me_cookie(app, demo):
    client, cookies = remembered_dispatcher(app)
    sign_out(client)
    assert_cookies_dead(app, cookies)
    # Signing in again works, and the new session is good.
    fresh, _ = signed_in_client(app, "dispatcher1")
    assert opens_dispatch(fresh)


def test_logout_in_one_browser_ends_the_others_too(app, demo):
    """One version per user: signing out on the office PC also ends the session left open on
    another machine (the safe reading of "sign out")."""
    first, _ = signed_in_client(app, "dispatcher1")
    second, _ = signed_in_client(app, "dispatcher1")
    sign_out(first)
    assert not opens_dispatch(second)


def test_new_password_ends_every_web_session(app, demo):
    from fieldapp.accounts import service as accounts
    from fieldapp.extensions import db
    from fieldapp.models import User

    _client, cookies = remembered_dispatcher(app)
    with app.app_context():
        accounts.set_password(db.session.get(User, demo["dispatcher1"]), "a-brand-new-secret")
        db.session.commit()
    assert_cookies_dead(app, cookies)
    fresh, _ = signed_in_client(app, "dispatcher1", "a-brand-new-secret")
    assert opens_dispatch(fresh)


def test_deactivation_ends_every_web_session_for_good(app, demo):
    """Deactivated, then active again: the cookies from before stay dead."""
    from fieldapp.accounts import service as accounts
    from fieldapp.extensions import db
    from fieldapp.models import User

    _client, cookies = remembered_dispatcher(app)
    with app.app_context():
        user = db.session.get(User, demo["dispatcher1"])
        accounts.set_active(user, False)
        db.session.commit()
    assert_cookies_dead(app, cookies)
    with app.app_context():
        accounts.set_active(db.session.get(User, demo["dispatcher1"]), True)
        db.session.commit()
    assert_cookies_dead(app, cookies)


def test_old_technician_session_cannot_mint_a_device_token(app, demo):
    client, _ = signed_in_client(app, "tech1")
    csrf = client.get("/app/session").get_json()["csrf_token"]
    cookies = cookies_of(client)
    thief = replay(app, cookies)
    minted = thief.post("/app/device-token", json={"device_name": "before"},
                        headers={"X-CSRFToken": csrf})
    assert minted.status_code == 200, minted.get_json()  # the control: it works before
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302
    thief = replay(app, cookies)
    refused = thief.post("/app/device-token", json={"device_name": "after"},
                         headers={"X-CSRFToken": csrf})
    assert refused.status_code == 401
    assert "token" not in (refused.get_json() or {})


@pytest.mark.parametrize("forged", ["1", "1.x", "x.0", "", ".", "1.0.0", "9" * 5000 + ".0",
                                    "-1.0", "1.-1"])
def test_odd_session_ids_are_nobody(app, demo, forged):
    from fieldapp.accounts.service import user_for_session
    from fieldapp.extensions import db

    with app.app_context():
        assert user_for_session(db.session, forged) is None


def test_signing_out_in_the_app_ends_the_web_session_it_came_from(app, demo):
    """The phone app signs out over the API; the browser's web session (which the app traded
    for its token) must not hand out a new token afterwards."""
    client, _ = signed_in_client(app, "tech1")
    csrf = client.get("/app/session").get_json()["csrf_token"]
    cookies = cookies_of(client)
    token = client.post("/app/device-token", json={"device_name": "phone"},
                        headers={"X-CSRFToken": csrf}).get_json()["token"]
    assert client.post("/api/v1/auth/logout",
                       headers={"Authorization": f"Bearer {token}"}).status_code == 204
    assert client.get("/app/session").get_json() == {"user": None}
    refused = replay(app, cookies).post("/app/device-token", json={"device_name": "again"},
                                        headers={"X-CSRFToken": csrf})
    assert refused.status_code == 401


def test_api_sign_out_leaves_another_users_web_session_alone(app, demo):
    client, _ = signed_in_client(app, "dispatcher1")
    api = ApiClient(client)
    api.login("tech1")
    assert api.post("/api/v1/auth/logout", as_="tech1").status_code == 204
    assert opens_dispatch(client)

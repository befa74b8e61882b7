"""Password spraying: one wrong password for each of many user names from one address is
throttled, and the web form and the API count together (per address across user names, and
per address and user name). A clear 429 with Retry-After at either door."""
from __future__ import annotations

import pytest

from tests.support.web_kit import csrf_from

LOGIN = "/api/v1/auth/login"
NAMES = ["tech1", "tech2", "dispatcher1", "supervisor1", "admin"] + [
    f"guess{n:02d}" for n in range(25)]


def web_attempt(client, username, password="Spring2026!", **kw):
    token = csrf_from(client.get("/login", **kw).get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token}, **kw)


def api_attempt(client, username, password="Spring2026!", **kw):
    return client.post(LOGIN, json={"username": username, "password": password,
                                    "device_name": "p"}, **kw)


def assert_retry_after(response):
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


@pytest.mark.parametrize("door", ["web", "api"])
def test_one_password_for_thirty_users_is_throttled(client, demo, door):
    attempt = web_attempt if door == "web" else api_attempt
    statuses = [attempt(client, name).status_code for name in NAMES]
    assert 429 in statuses, statuses
    first = statuses.index(429)
    assert set(statuses[:first]) == {401} and set(statuses[first:]) == {429}
    assert first == 10  # FIELDAPP_LOGIN_ADDRESS_LIMIT: 10 per minute by default
    # While it holds, the right password gets no further from this address.
    blocked = attempt(client, "dispatcher1", "fieldapp-demo")
    assert_retry_after(blocked)
    if door == "api":
        assert blocked.get_json()["error"] == "too_many_attempts"


@pytest.mark.parametrize("language,text", [("zh-CN", "登录失败次数过多"),
                                           ("en", "Too many failed sign-ins")])
def test_web_page_says_why_in_both_languages(client, demo, language, text):
    headers = {"Accept-Language": language}
    for name in NAMES[:10]:
        assert web_attempt(client, name, headers=headers).status_code == 401
    page = web_attempt(client, NAMES[10], headers=headers)
    assert_retry_after(page)
    assert "text/html" in page.content_type
    assert text in page.get_data(as_text=True)


def test_web_and_api_count_together_across_user_names(client, demo):
    for name in NAMES[:5]:
        assert web_attempt(client, name).status_code == 401
    for name in NAMES[5:10]:
        assert api_attempt(client, name).status_code == 401
    assert_retry_after(api_attempt(client, NAMES[10]))
    assert_retry_after(web_attempt(client, NAMES[11]))


def test_web_and_api_count_together_for_one_user(client, demo):
    """The per-user limit (5 per minute) is one counter for both doors too."""
    for attempt in (web_attempt, api_attempt, web_attempt, api_attempt, web_attempt):
        assert attempt(client, "tech1").status_code == 401
    assert_retry_after(api_attempt(client, "tech1", "fieldapp-demo"))
    # Another user from the same address is still let in (4 more failures allowed).
    assert api_attempt(client, "tech2", "fieldapp-demo").status_code == 200


def test_another_address_is_not_affected(client, demo):
    for name in NAMES[:10]:
        api_attempt(client, name)
    assert api_attempt(client, "tech1", "fieldapp-demo").status_code == 429
    elsewhere = {"REMOTE_ADDR": "10.1.2.3"}
    assert api_attempt(client, "tech1", "fieldapp-demo",
                       environ_base=elsewhere).status_code == 200


def test_successful_sign_ins_do_not_count(client, demo):
    for _ in range(3):
        for name in ("tech1", "tech2", "dispatcher1", "supervisor1", "admin"):
            assert api_attempt(client, name, "fieldapp-demo").status_code == 200
    for name in NAMES[:10]:
        assert api_attempt(client, name).status_code == 401

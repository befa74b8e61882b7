"""Issue 20, the phones: listing devices, revoking one (a lost phone), what it had not sent.
A revoked token answers 401 `device_revoked` on pull and push; the user's other phones keep
working; only an admin (or the device's own user) may revoke; every revocation is audited."""
from __future__ import annotations

from sqlalchemy import select

from fieldapp.accounts.models import DeviceEvent
from fieldapp.extensions import db
from tests.support.synckit import Phone
from tests.support.web_kit import csrf_from, signed_in_client


def _report(phone: Phone, pending: int) -> None:
    """The phone's pull after its push, saying what still waits on it."""
    response = phone.client.get("/api/v1/sync/pull", headers=phone.headers,
                                query_string={"cursor": "", "pending": pending})
    assert response.status_code == 200, response.get_json()


def _revoke(phone: Phone, device_id: str):
    return phone.client.post(f"/api/v1/devices/{device_id}/revoke", headers=phone.headers)


def test_revoked_token_answers_device_revoked_and_other_phones_keep_working(client, demo, app):
    lost = Phone(client, "tech1", name="lost phone")
    spare = Phone(client, "tech1", name="spare phone")
    admin = Phone(client, "admin", name="office")
    _report(lost, 12)

    answer = _revoke(admin, lost.device_id)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["revoked_at"] and body["revoked_by"] == demo["admin"]
    assert body["pending"] == 12

    pull = lost.pull_raw()
    assert pull.status_code == 401 and pull.get_json()["error"] == "device_revoked"
    push = lost.push_raw([lost.note("any", "after revoke")])
    assert push.status_code == 401 and push.get_json()["error"] == "device_revoked"
    # In both languages, from the registry the phone reads.
    zh = client.get("/api/v1/sync/pull", headers={**lost.headers, "Accept-Language": "zh-CN"})
    assert "办公室" in zh.get_json()["message"]

    assert spare.pull_raw().status_code == 200
    # A token nobody revoked (unknown) is still the plain 401.
    other = client.get("/api/v1/sync/pull", headers={"Authorization": "Bearer nope"})
    assert other.get_json()["error"] == "unauthorized"

    # Again: the same answer, nothing new recorded.
    assert _revoke(admin, lost.device_id).status_code == 200
    with app.app_context():
        events = db.session.scalars(select(DeviceEvent)).all()
        assert [(e.type, e.subject_id, e.actor_id, e.data["pending"]) for e in events] == [
            ("device_revoked", lost.device_id, demo["admin"], 12)]
        assert events[0].server_at is not None

    listed = client.get("/api/v1/devices", headers=admin.headers).get_json()["items"]
    row = next(d for d in listed if d["id"] == lost.device_id)
    assert row["user_id"] == demo["tech1"] and row["name"] == "lost phone"
    assert row["pending"] == 12 and row["revoked_at"] and row["last_sync_at"]
    assert set(row) >= {"id", "user_id", "name", "created_at", "last_sync_at", "revoked_at"}


def test_a_technician_revokes_their_own_phone_but_not_anothers(client, demo):
    mine = Phone(client, "tech1", name="mine")
    theirs = Phone(client, "tech2", name="theirs")

    refused = _revoke(mine, theirs.device_id)
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert theirs.pull_raw().status_code == 200
    assert client.get("/api/v1/devices", headers=mine.headers,
                      query_string={"user_id": demo["tech2"]}).status_code == 403
    own = client.get("/api/v1/devices", headers=mine.headers).get_json()["items"]
    assert {d["user_id"] for d in own} == {demo["tech1"]}

    assert _revoke(mine, mine.device_id).status_code == 200
    assert mine.pull_raw().get_json()["error"] == "device_revoked"
    missing = _revoke(theirs, "no-such-device")
    assert missing.status_code == 404 and missing.get_json()["error"] == "device_not_found"


def test_signing_out_on_the_phone_stays_the_plain_unauthorized(client, demo):
    phone = Phone(client, "tech1")
    assert client.post("/api/v1/auth/logout", headers=phone.headers).status_code == 204
    assert phone.pull_raw().get_json()["error"] == "unauthorized"


def test_the_pull_reports_what_still_waits(client, demo):
    phone = Phone(client, "tech1")
    admin = Phone(client, "admin")
    _report(phone, 3)
    _report(phone, 0)  # sent everything: nothing would be lost now
    row = next(d for d in client.get("/api/v1/devices", headers=admin.headers).get_json()["items"]
               if d["id"] == phone.device_id)
    assert row["pending"] == 0
    bad = client.get("/api/v1/sync/pull", headers=phone.headers,
                     query_string={"cursor": "", "pending": -1})
    assert bad.status_code == 422


def test_the_admin_page_lists_and_revokes(app, client, demo):
    lost = Phone(client, "tech1", name="Redmi 丢失")
    _report(lost, 12)
    office, _token = signed_in_client(app, "admin")
    page = office.get("/admin/devices")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Redmi 丢失" in html and f'data-device="{lost.device_id}"' in html

    refused = office.post(f"/admin/devices/{lost.device_id}/revoke", data={})
    assert refused.status_code == 400  # no CSRF token: nothing revoked
    assert lost.pull_raw().status_code == 200

    done = office.post(f"/admin/devices/{lost.device_id}/revoke",
                       data={"csrf_token": csrf_from(html)}, follow_redirects=True)
    assert done.status_code == 200
    after = done.get_data(as_text=True)
    assert "Redmi 丢失" in after
    assert "Not sent when revoked: 12" in after or "撤销时未发送：12 条" in after
    assert f'data-lost="{lost.device_id}"' in after
    assert lost.pull_raw().get_json()["error"] == "device_revoked"


def test_only_admins_reach_the_admin_pages(app, demo):
    for username in ("dispatcher1", "supervisor1"):
        office, _token = signed_in_client(app, username)
        assert office.get("/admin/devices").status_code == 403
    anonymous = app.test_client().get("/admin/devices")
    assert anonymous.status_code in (302, 303)


def test_revoking_ends_the_web_session_a_lost_phone_could_trade_for_a_token(app, client, demo):
    phone = Phone(client, "tech1")
    browser, token = signed_in_client(app, "tech1")  # the phone's browser, signed in on /login
    admin = Phone(client, "admin")
    assert _revoke(admin, phone.device_id).status_code == 200
    traded = browser.post("/app/device-token", json={"device_id": phone.device_id},
                          headers={"X-CSRFToken": token})
    assert traded.status_code in (400, 401), traded.status_code  # no session: no new token
    assert phone.pull_raw().get_json()["error"] == "device_revoked"

    # Signing in again with the password revives it, on record.
    phone.login(phone.device_id)
    assert phone.pull_raw().status_code == 200
    with app.app_context():
        kinds = db.session.scalars(select(DeviceEvent.type).order_by(DeviceEvent.id)).all()
    assert kinds == ["device_revoked", "device_signed_in_again"]

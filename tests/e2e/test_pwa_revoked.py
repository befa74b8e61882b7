"""Issue 20 on the phone: the office revokes a phone while it holds an unsent change. The
phone says it was signed out by the office (not "your sign-in expired"), keeps its outbox,
and the page /admin/devices showed what it had last said was waiting."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.e2e.test_pwa_offline import (
    add_note,
    job_id_for,
    new_phone,
    pending_in_outbox,
    sign_in,
    wait_synced,
)
from tests.support.browser_kit import shot

pytestmark = pytest.mark.browser


def test_a_revoked_phone_says_the_office_signed_it_out_and_keeps_its_outbox(
        browser, live_server, app, api):
    from fieldapp.extensions import db
    from fieldapp.models import Device, Note

    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "installation")
    with app.app_context():
        device = db.session.scalars(select(Device).order_by(Device.created_at.desc())).first()
        device_id, reported = device.id, (device.client or {}).get("pending")
    assert reported == 0  # the phone's pull said nothing waits
    context.set_offline(True)
    page.click(f"[data-job='{job_id}'] .card-link")
    page.wait_for_selector(".checklist")
    add_note(page, "撤销前的记录")
    revoked = api.post(f"/api/v1/devices/{device_id}/revoke", as_="admin")
    assert revoked.status_code == 200, revoked.get_json()
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("input[name=username]", timeout=30000)
    assert "办公室" in page.locator(".alert").inner_text()
    assert pending_in_outbox(page) == 1
    shot(page, "pwa-signed-out-by-office-zh-390")
    # Signing in again on this phone (the password): the change it held arrives, once.
    page.fill("input[name=username]", "tech1")
    page.fill("input[name=password]", "fieldapp-demo")
    page.click("button[type=submit]")
    page.wait_for_selector(".job-card")
    wait_synced(page)
    with app.app_context():
        texts = db.session.scalars(select(Note.text).where(Note.job_id == job_id)).all()
        assert texts == ["撤销前的记录"]
    context.close()

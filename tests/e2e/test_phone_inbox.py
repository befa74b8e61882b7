"""The office's messages reach the technician's phone: fetched after a sync, kept for offline
use, and "got it" marks them read on the server at the next sync."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.e2e.test_pwa_offline import job_id_for, new_phone, sign_in, wait_synced
from tests.support.browser_kit import shot

pytestmark = pytest.mark.browser


def notify_tech(app, job_id: str) -> int:
    from fieldapp.accounts.context import Ctx
    from fieldapp.extensions import db
    from fieldapp.models import User
    from fieldapp.notifications.service import notify

    with app.app_context():
        tech = db.session.execute(select(User).where(User.username == "tech1")).scalar_one()
        ctx = Ctx(db.session, app.extensions["fieldapp.clock"])
        [row] = notify(ctx, "job_reminder", [tech], subject="明天的工单：FA-TEST",
                       body="明天 09:00 布艺沙发 SF-3S", job_id=job_id, key="test:inbox")
        db.session.commit()
        return row.id


def read_at(app, notification_id: int):
    from fieldapp.extensions import db
    from fieldapp.models import Notification

    with app.app_context():
        return db.session.get(Notification, notification_id).read_at


def test_office_message_shows_offline_and_got_it_reaches_the_server(app, live_server, browser):
    job_id = job_id_for(app, "repair")
    notification_id = notify_tech(app, job_id)
    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    item = page.wait_for_selector(f"[data-inbox='{notification_id}']", timeout=30000)
    assert "明天的工单" in item.inner_text()
    shot(page, "phone-inbox-zh-390")
    # Kept on the phone: offline, after a reload, it is still there.
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(f"[data-inbox='{notification_id}']")
    button = page.locator(f"[data-inbox='{notification_id}'] button.dismiss")
    assert button.bounding_box()["height"] >= 44
    button.click()
    page.wait_for_selector(f"[data-inbox='{notification_id}']", state="detached")
    assert read_at(app, notification_id) is None  # offline: not told yet
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_synced(page)
    for _ in range(100):
        if read_at(app, notification_id) is not None:
            break
        page.wait_for_timeout(100)
    assert read_at(app, notification_id) is not None
    page.reload()
    page.wait_for_selector(".job-card")
    assert page.locator(f"[data-inbox='{notification_id}']").count() == 0
    context.close()

"""Notifications in a real browser: a major complaint left unescalated for an hour lights the
supervisor's bell; the supervisor opens the list, follows the notice to the complaint (read
only), marks it read; a dispatcher retries a failed delivery. Screenshots:
screenshots/notifications-*.png."""
from datetime import timedelta

import pytest

from tests.support.browser_kit import DESKTOP, shot, web_sign_in

pytestmark = pytest.mark.browser


def _sign_in(browser, live_server, username, lang):
    context = browser.new_context(viewport=DESKTOP, locale=lang, timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    web_sign_in(page, live_server, username)
    page.wait_for_load_state()
    return context, page, errors


def _tap_targets_ok(page):
    for height in page.eval_on_selector_all(
            "button, a.bell, .notif-filter a, .deliv-filter a",
            "els => els.filter(e => e.offsetParent).map(e => e.getBoundingClientRect().height)"):
        assert height >= 44, f"control only {height}px high"


def test_the_supervisor_follows_the_bell_to_the_complaint(browser, live_server, app, api,
                                                           clock):
    from fieldapp.scheduler.runner import run_once

    complaint = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "customer": {"name": "郑女士", "phone": "13912340005"}, "about": "service",
        "content": "电话没人接", "severity": "major"}).get_json()
    clock.advance(hours=1, seconds=1)
    run_once(app, only=["sla_escalations"])
    for lang in ("zh-CN", "en"):
        context, page, errors = _sign_in(browser, live_server, "supervisor1", lang)
        if lang == "en":
            page.goto(live_server + "/lang/en?next=/review/")
        bell = page.locator("a.bell")
        assert bell.inner_text().strip().endswith("1")
        shot(page, f"notifications-bell-{lang}-1366")
        bell.click()
        page.wait_for_selector(".notif-unread")
        assert complaint["ref"] in page.inner_text(".notif-list")
        _tap_targets_ok(page)
        shot(page, f"notifications-list-{lang}-1366")
        if lang == "en":
            page.click(".notif-unread button")  # mark read
            page.wait_for_load_state()
            assert page.locator(".notif-unread").count() == 0
            assert "bell-unread" not in (page.get_attribute("a.bell", "class") or "")
        page.click(".notif-subject a")
        page.wait_for_selector("h1")
        assert complaint["ref"] in page.inner_text("h1")
        assert "/review/complaints/" in page.url
        shot(page, f"notifications-complaint-{lang}-1366")
        assert errors == []
        context.close()


def test_a_dispatcher_retries_a_failed_delivery(browser, live_server, app, clock):
    from fieldapp.extensions import db
    from fieldapp.models import Delivery

    with app.app_context():
        now = clock.now()
        db.session.add(Delivery(key="k1", kind="test", channel="webhook", target="13800000003",
                                payload={"subject": "测试短信"}, status="failed", attempts=5,
                                next_attempt_at=now - timedelta(hours=1),
                                last_error="RuntimeError: webhook answered HTTP 500",
                                created_at=now, updated_at=now))
        db.session.commit()
    context, page, errors = _sign_in(browser, live_server, "dispatcher1", "zh-CN")
    page.goto(live_server + "/dispatch/deliveries")
    row = page.locator("tr.deliv-failed")
    assert "HTTP 500" in row.inner_text() and "测试短信" in row.inner_text()
    _tap_targets_ok(page)
    shot(page, "notifications-deliveries-zh-1366")
    row.locator("button").click()
    page.wait_for_load_state()
    assert page.locator("tr.deliv-failed").count() == 0
    assert page.locator("tr.deliv-pending").count() == 1
    assert errors == []
    context.close()

"""Issue 16 on the phone, in real Chromium with touch at 390x844: a whole installation job
done offline with one thumb (taps and scrolling counted), answering keeps the place, photos
can be looked at, deleted and retaken, the sign-off completes the job, and a browser that
cannot keep work offline says so."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from tests.e2e.phone_walk import PHONE_TOUCH, do_installation_offline
from tests.e2e.test_pwa_offline import job_id_for, server_view, sign_in, wait_synced
from tests.support.browser_kit import shot

pytestmark = pytest.mark.browser

MAX_TAPS = 25
MAX_SCREENS = 10


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("photos") / "site.jpg"
    Image.effect_noise((1200, 900), 50).convert("RGB").save(path, "JPEG", quality=80)
    return str(path)


def touch_phone(browser, locale="zh-CN", **kwargs):
    return browser.new_context(**PHONE_TOUCH, locale=locale, timezone_id="Asia/Shanghai",
                               service_workers="allow", bypass_csp=True, reduced_motion="reduce",
                               **kwargs)


def outbox(page):
    return page.evaluate("""async () => {
        const db = await new Promise((ok, ko) => { const r = indexedDB.open('fieldapp'); r.onsuccess = () => ok(r.result); r.onerror = ko; });
        return await new Promise((ok) => { const r = db.transaction('outbox').objectStore('outbox').getAll(); r.onsuccess = () => ok(r.result); }); }""")


def test_installation_job_offline_with_one_thumb(browser, live_server, app, photo):
    context = touch_phone(browser)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    pushes = []
    page.on("request", lambda r: pushes.append(json.loads(r.post_data))
            if r.url.endswith("/api/v1/sync/push") else None)
    sign_in(page, live_server)
    job_id = job_id_for(app, "installation")

    context.set_offline(True)
    page.reload()
    page.wait_for_selector(".job-card")
    walk = do_installation_offline(page, live_server, job_id, photo)
    print(f"\ninstallation job offline at 390x844: {walk.taps} taps, "
          f"{walk.swiped:.0f} px swiped ({walk.screens:.2f} screens), "
          f"app scrolled {walk.app_scrolled:.0f} px by itself ({walk.all_screens:.2f} screens in all)")
    assert walk.taps <= MAX_TAPS, walk.taps
    assert walk.screens <= MAX_SCREENS, walk.screens
    assert walk.all_screens <= MAX_SCREENS, walk.all_screens

    # The done moment, with what is still waiting, in words a person understands.
    waiting = page.locator("#done-waiting")
    assert waiting.get_attribute("data-waiting") == "yes"
    text = waiting.inner_text()
    assert "2 张照片" in text and "1 个签字" in text and "项回答" in text, text
    shot(page, "pwa-done-waiting-zh-390")
    badge = page.locator("#sync-badge").inner_text()
    assert "离线" in badge and "张照片" in badge and "待发送" in badge, badge

    context.set_offline(False)
    wait_synced(page, timeout=60000)
    page.wait_for_function("document.querySelector('#done-waiting')?.dataset.waiting === 'no'")
    page.wait_for_function("document.querySelector('#sync-badge').textContent.includes('全部已发送')")
    server = server_view(app, job_id)
    assert server["status"] == "completed"
    assert len(server["photo_shas"]) == 2 and server["signatures"] == 1
    # Each push carries the device clock and what the office should know of this phone.
    assert pushes and all("sent_at" in p and p["sent_at"].endswith("Z") for p in pushes)
    client = pushes[0]["client"]
    assert set(client["storage"]) == {"persisted", "sw", "idb"}
    assert client["storage"]["sw"] is True and client["storage"]["idb"] is True
    # (offline attempts count too: the largest outbox sent is the whole job)
    assert max(p["client"]["pending"] for p in pushes) >= 14
    assert not errors, errors
    context.close()


def test_answering_at_the_bottom_never_goes_back_to_the_top(browser, live_server, app):
    context = touch_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "installation")
    page.goto(f"{live_server}/app/#/job/{job_id}")
    for to in ("en_route", "on_site", "in_progress"):
        page.locator(f"button[data-move='{to}']").first.tap()
        page.wait_for_function("(to) => !document.querySelector(`button[data-move='${to}']`)", arg=to)
    wait_synced(page)  # no background redraw under the taps that follow
    # The last item of the checklist, in the folded "leaving" phase, opened by hand.
    page.evaluate("document.querySelector(\"[data-item='farewell']\").closest('details')?.setAttribute('open', '')")
    last = page.locator("[data-item='farewell']")
    page.evaluate("document.querySelector(\"[data-item='farewell']\").scrollIntoView()")
    page.evaluate("window.scrollBy(0, 200)")
    before = page.evaluate("window.scrollY")
    assert before > 1000
    last.locator("button.choice").first.tap()
    page.wait_for_selector("[data-item='farewell'] button.choice.on")
    page.wait_for_timeout(300)
    after = page.evaluate("window.scrollY")
    assert after >= before - 2, (before, after)

    # The last required item of a phase: the phase folds away and the next item comes into view.
    page.evaluate("document.querySelector(\"[data-item='service_record']\").scrollIntoView()")
    before = page.evaluate("window.scrollY")
    for key in ("goods_in_place_photo", "site_clean_photo"):
        assert page.locator(f"[data-item='{key}'] img.thumb").count() == 0
    page.locator("[data-item='debris_cleared'] button.choice").first.tap()
    page.wait_for_selector("[data-item='debris_cleared'] button.choice.on")
    page.wait_for_timeout(300)
    after = page.evaluate("window.scrollY")
    assert after > 0 and after >= before - 2 or page.evaluate(
        "(() => { const b = document.querySelector(\"[data-item='service_record']\").getBoundingClientRect();"
        " return b.top >= 0 && b.bottom <= innerHeight; })()"), (before, after)
    context.close()


def test_photo_preview_delete_and_retake(browser, live_server, app, photo):
    context = touch_phone(browser, locale="en")
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "installation")
    page.goto(f"{live_server}/app/#/job/{job_id}")
    for _ in range(3):
        step = page.locator(".next-bar [data-next='move']")
        to = step.get_attribute("data-to")
        step.tap()
        page.wait_for_function("(to) => !document.querySelector(`.next-bar [data-to='${to}']`)", arg=to)
    wait_synced(page)  # no background redraw under the taps that follow
    context.set_offline(True)
    item = page.locator("[data-item='goods_in_place_photo']")
    item.locator("input[type=file]").set_input_files(photo)
    page.wait_for_selector("[data-item='goods_in_place_photo'] img.thumb")
    first_id = [m for m in outbox(page) if m["type"] == "photo.attach"][-1]["args"]
    assert first_id["caption"] == "Photo of the goods in place after unpacking"

    item.locator(".thumb-button").first.tap()
    page.wait_for_selector(".preview img.full")
    assert page.locator(".preview [data-action='delete-photo']").is_visible()
    # Retake: a new photo, the old one taken back.
    page.locator(".preview input[type=file]").set_input_files(photo)
    page.wait_for_selector(".preview", state="detached")
    page.wait_for_function("""async (old) => {
        const db = await new Promise((ok) => { const r = indexedDB.open('fieldapp'); r.onsuccess = () => ok(r.result); });
        const all = await new Promise((ok) => { const r = db.transaction('outbox').objectStore('outbox').getAll(); r.onsuccess = () => ok(r.result); });
        return all.some((m) => m.type === 'photo.remove' && m.args.photo_id === old); }""", arg=first_id["photo_id"])
    attaches = [m for m in outbox(page) if m["type"] == "photo.attach"]
    assert len(attaches) >= 2

    # Delete: one tap in the preview.
    item.locator(".thumb-button").last.tap()
    page.wait_for_selector(".preview")
    page.locator(".preview [data-action='delete-photo']").tap()
    page.wait_for_selector(".preview", state="detached")
    removes = [m for m in outbox(page) if m["type"] == "photo.remove"]
    assert len(removes) == 2 and all(set(m["args"]) == {"photo_id"} for m in removes)

    # The sign-off lists what is missing; each line leads to its item, in view.
    page.goto(f"{live_server}/app/#/job/{job_id}/sign")
    page.locator("[data-unmet='service_record'] a").tap()
    page.wait_for_function("""() => { const el = document.querySelector("[data-item='service_record']");
        if (!el) return false; const b = el.getBoundingClientRect(); return b.top >= 0 && b.bottom <= innerHeight; }""")
    context.close()


@pytest.mark.parametrize("locale,needle", [("zh-CN", "在浏览器打开"), ("en", "Open in Browser")])
def test_a_browser_that_cannot_work_offline_says_so(browser, live_server, locale, needle):
    """WeChat's browser without a service worker: the app says what to do, in the user's
    language, before any work is done."""
    context = browser.new_context(**PHONE_TOUCH, locale=locale, service_workers="block",
                                  user_agent="Mozilla/5.0 (Linux; Android 13) MicroMessenger/8.0.47")
    page = context.new_page()
    page.goto(live_server + "/app/")
    banner = page.wait_for_selector("#health-banner:not(.hidden)", timeout=15000)
    assert "wechat" in banner.get_attribute("data-problems")
    assert needle in banner.inner_text()
    shot(page, f"pwa-health-wechat-{locale}-390")
    context.close()

"""The office pages of issue 8 in a real browser at desktop size, zh-CN and English: the parts
queue and the parts log (/review/parts, supervisor), the take-back register
(/dispatch/takebacks, dispatcher) with an overdue receipt highlighted. A decision is made by
tapping, the way a supervisor does. Screenshots in screenshots/office-parts-*.png."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.browser_kit import DESKTOP, shot, web_sign_in
from tests.support.helpers import T0, jpeg_bytes
from tests.support.partskit import Phone, job_of_type, parts_request, receipt

pytestmark = pytest.mark.browser


def tap_targets_ok(page, name):
    small = page.eval_on_selector_all(
        "main button, main a.button, main input:not([type=hidden]), main select",
        "els => els.filter(e => e.offsetParent).map(e => [e.textContent.trim().slice(0, 20) || e.name,"
        " e.getBoundingClientRect().height]).filter(([, h]) => h < 44)")
    assert not small, f"{name}: controls under 44px: {small}"


def sign_in(browser, live_server, username, lang):
    context = browser.new_context(viewport=DESKTOP, locale=lang, timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.goto(live_server + "/lang/" + ("en" if lang == "en" else "zh_CN"))
    web_sign_in(page, live_server, username)
    page.wait_for_load_state()
    return context, page


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_office_pages(browser, live_server, app, clock, lang):
    suffix = "zh" if lang == "zh-CN" else "en"
    tech1 = Phone(app.test_client(), "tech1")
    job = job_of_type(tech1, "repair")
    photo = tech1.upload(_jpeg(), "image/jpeg")
    first = parts_request(tech1, job["id"], photo_sha256s=[photo])
    second = parts_request(tech1, job["id"], kind="supplementary", part_name="螺丝包 screws",
                           quantity=1, reason="包装内缺少螺丝包", cause="missing_in_delivery")
    tech1.push([tech1.status(job["id"], s) for s in ("en_route", "on_site", "in_progress")]
               + [first, second, receipt(tech1, job["id"], receipt_no=f"{job['ref']}-T1")])
    clock.set(T0 + timedelta(days=9))

    context, page = sign_in(browser, live_server, "supervisor1", lang)
    page.goto(live_server + "/review/parts")
    page.wait_for_selector(".parts-card")
    tap_targets_ok(page, "parts queue")
    shot(page, f"office-parts-queue-{suffix}")
    card = page.locator(f"#p-{first['args']['request_id']}")
    card.locator("select[name=cause]").select_option("manufacturing_defect")
    card.locator("button[value=approve]").click()
    page.wait_for_selector(".flash-ok")
    page.goto(live_server + "/review/parts/log")
    page.wait_for_selector(".parts-log")
    tap_targets_ok(page, "parts log")
    shot(page, f"office-parts-log-{suffix}")
    context.close()

    context, page = sign_in(browser, live_server, "dispatcher1", lang)
    page.goto(live_server + "/dispatch/takebacks")
    page.wait_for_selector(".tb-register tr.overdue")
    shot(page, f"office-takebacks-{suffix}")
    context.close()


def _jpeg():
    return jpeg_bytes(5, (400, 300))

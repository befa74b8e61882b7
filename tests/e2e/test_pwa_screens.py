"""Every screen of the phone app at 390x844 and 360x780, zh-CN and English, on a touch
phone: axe-core finds no violation (target-size and page-has-heading-one included), every tap
target is at least 44 px, nothing scrolls sideways, the header is one row, the job reference
is never cut off, and a screenshot of each lands in screenshots/ (not committed) to be looked
at."""
import os

import pytest
from PIL import Image

from tests.e2e.test_pwa_offline import job_id_for, wait_synced
from tests.support.browser_kit import shot
from tests.support.helpers import complete_job

pytestmark = pytest.mark.browser

MIN_TARGET = 44
AXE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor", "axe-core", "axe.min.js")
SIZES = ((390, 844), (360, 780))


def axe_violations(page):
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=AXE)
    return page.evaluate("""async () => {
        const result = await axe.run(document, { rules: { 'target-size': { enabled: true } } });
        const ran = result.passes.map(v => v.id).concat(result.incomplete.map(v => v.id));
        return { ran, violations: result.violations.map(v => ({ id: v.id, nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + n.failureSummary.slice(0, 160)) })) }; }""")


def check_screen(page, name):
    small = page.eval_on_selector_all(
        "#main button, #main a.button, #main input:not([type=hidden]):not(.visually-hidden), "
        "#main select, #main textarea, #main label.button, #main summary, #main a[href^='tel:'], header button, header a",
        "els => els.filter(e => e.offsetParent !== null || getComputedStyle(e).position === 'fixed')"
        ".map(e => [e.textContent.trim().slice(0, 20) || e.name || e.tagName, e.getBoundingClientRect().height])"
        f".filter(([, h]) => h > 0 && h < {MIN_TARGET})")
    assert not small, f"{name}: tap targets under {MIN_TARGET}px: {small}"
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: sideways scrolling: {overflow}px"
    title = page.locator("#bar-title")
    assert page.evaluate("(el) => el.scrollWidth <= el.clientWidth + 1", title.element_handle()), \
        f"{name}: the header title is cut off"
    # The header is one row: the badge sits beside the title, never under it.
    rows = page.evaluate("""() => {
        const title = document.querySelector('#bar-title').getBoundingClientRect();
        const badge = document.querySelector('#sync-badge').getBoundingClientRect();
        return { overlapV: Math.min(title.bottom, badge.bottom) - Math.max(title.top, badge.top),
                 height: document.querySelector('header.bar').getBoundingClientRect().height }; }""")
    assert rows["overlapV"] > 0, f"{name}: the sync badge wrapped under the title: {rows}"
    axe = axe_violations(page)
    assert not axe["violations"], f"{name}: axe: {axe['violations']}"
    assert {"target-size", "page-has-heading-one"} <= set(axe["ran"]), axe["ran"]
    page.screenshot(path=shot_path(f"{name}-view"))
    shot(page, name)


def shot_path(name):
    from tests.support.browser_kit import SHOTS

    os.makedirs(SHOTS, exist_ok=True)
    return os.path.join(SHOTS, f"{name}.png")


def start_work(page):
    for _ in range(3):
        step = page.locator(".next-bar [data-next='move']")
        if not step.count():
            break
        to = step.get_attribute("data-to")
        step.tap()
        page.wait_for_function("(to) => !document.querySelector(`.next-bar [data-to='${to}']`)", arg=to)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_screen(browser, live_server, app, api, lang, tmp_path):
    suffix = "zh" if lang == "zh-CN" else "en"
    photo = tmp_path / "p.jpg"
    Image.effect_noise((800, 600), 40).convert("RGB").save(photo, "JPEG")
    install = job_id_for(app, "installation")
    delivery = job_id_for(app, "delivery")
    repair = job_id_for(app, "repair")
    complete_job(api, delivery)  # for the "done" screen
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height}, locale=lang,
                                      timezone_id="Asia/Shanghai", bypass_csp=True,
                                      has_touch=True, is_mobile=True, reduced_motion="reduce")
        page = context.new_page()
        tag = f"{suffix}-{width}"
        page.goto(live_server + "/app/")
        page.wait_for_selector("input[name=username]")
        check_screen(page, f"pwa-signin-{tag}")
        page.fill("input[name=username]", "tech1")
        page.fill("input[name=password]", "fieldapp-demo")
        page.click("button[type=submit]")
        page.wait_for_selector(".job-card")
        wait_synced(page)
        check_screen(page, f"pwa-jobs-{tag}")

        page.goto(f"{live_server}/app/#/job/{install}")
        page.wait_for_selector(".checklist")
        check_screen(page, f"pwa-job-{tag}")
        start_work(page)
        wait_synced(page)
        page.locator("[data-item='goods_in_place_photo'] input[type=file]").set_input_files(str(photo))
        page.wait_for_selector("[data-item='goods_in_place_photo'] img.thumb")
        wait_synced(page)
        page.evaluate("document.querySelector(\"[data-item='id_before_entry']\").scrollIntoView()")
        check_screen(page, f"pwa-checklist-{tag}")
        page.locator("[data-item='goods_in_place_photo'] .thumb-button").first.tap()
        page.wait_for_selector(".preview img.full")
        check_screen(page, f"pwa-photo-{tag}")
        page.locator("[data-action='close-preview']").tap()

        page.goto(f"{live_server}/app/#/job/{install}/sign")
        page.wait_for_selector("canvas.signature-pad")
        check_screen(page, f"pwa-signoff-{tag}")
        page.goto(f"{live_server}/app/#/job/{install}/reason/unsuccessful")
        page.wait_for_selector("textarea[name=reason]")
        check_screen(page, f"pwa-reason-{tag}")
        page.goto(f"{live_server}/app/#/job/{repair}/part")
        page.wait_for_selector("[name=part_name], input")
        check_screen(page, f"pwa-part-{tag}")
        page.goto(f"{live_server}/app/#/job/{delivery}/done")
        page.wait_for_selector(".done-moment")
        check_screen(page, f"pwa-done-{tag}")
        page.goto(f"{live_server}/app/#/job/{delivery}/sign")
        page.wait_for_selector(".signed-block")
        check_screen(page, f"pwa-signed-{tag}")
        page.goto(live_server + "/app/#/settings")
        page.wait_for_selector("button.danger")
        check_screen(page, f"pwa-settings-{tag}")
        context.close()

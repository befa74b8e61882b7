"""Every screen of the phone app at 390x844 in zh-CN and English (screenshots in
screenshots/), each checked for tap targets of at least 44 px and for fitting a 360 px
wide screen without sideways scrolling."""
import pytest

from tests.support.browser_kit import PHONE, shot

pytestmark = pytest.mark.browser

MIN_TARGET = 44


def check_screen(page, name):
    small = page.eval_on_selector_all(
        "#view button, #view a.button, #view input:not([type=hidden]):not(.visually-hidden), "
        "#view select, #view textarea, #view label.button, header button",
        "els => els.filter(e => e.offsetParent !== null)"
        ".map(e => [e.textContent.trim().slice(0, 20) || e.name || e.tagName, e.getBoundingClientRect().height])"
        f".filter(([, h]) => h < {MIN_TARGET})")
    assert not small, f"{name}: tap targets under {MIN_TARGET}px: {small}"
    shot(page, name)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_screen(browser, live_server, app, lang):
    suffix = "zh" if lang == "zh-CN" else "en"
    for width, height in ((PHONE["width"], PHONE["height"]), (360, 740)):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=lang,
                                      timezone_id="Asia/Shanghai", bypass_csp=True)
        page = context.new_page()
        tag = f"{suffix}-{width}"
        page.goto(live_server + "/app/")
        page.wait_for_selector("input[name=username]")
        check_screen(page, f"pwa-signin-{tag}")
        page.fill("input[name=username]", "tech1")
        page.fill("input[name=password]", "fieldapp-demo")
        page.click("button[type=submit]")
        page.wait_for_selector(".job-card")
        page.wait_for_function("document.querySelector('#sync-badge').dataset.state === 'ok'")
        check_screen(page, f"pwa-jobs-{tag}")
        page.locator(".job-card .card-link").nth(2).click()  # the repair job
        page.wait_for_selector(".checklist")
        check_screen(page, f"pwa-job-{tag}")
        if page.locator("button[data-move='en_route']").count():  # first pass only
            page.click("button[data-move='en_route']")
        page.wait_for_selector("button[data-move='unsuccessful']")
        page.click("button[data-move='unsuccessful']")
        page.wait_for_selector("textarea[name=reason]")
        check_screen(page, f"pwa-reason-{tag}")
        page.go_back()
        page.wait_for_selector(".signature-section a.button")
        page.click(".signature-section a.button")
        page.wait_for_selector("canvas.signature-pad")
        check_screen(page, f"pwa-signature-{tag}")
        job_url = page.url.replace("/sign", "")
        page.goto(job_url + "/complete")
        page.wait_for_selector("#confirm-complete")
        check_screen(page, f"pwa-completion-{tag}")
        page.goto(live_server + "/app/#/settings")
        page.wait_for_selector("button.danger")
        check_screen(page, f"pwa-settings-{tag}")
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"sideways scrolling on a {width}px screen: {overflow}px"
        context.close()

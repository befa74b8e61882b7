"""Sign-in in a real browser: each role lands on its own face, in Chinese by default and in
English when switched. Screenshots at phone and desktop size land in screenshots/."""
import pytest

from tests.support.browser_kit import DESKTOP, PHONE, shot

pytestmark = pytest.mark.browser

FACES = [("tech1", "/app/", PHONE), ("dispatcher1", "/dispatch/", DESKTOP),
         ("supervisor1", "/review/", DESKTOP), ("admin", "/dispatch/", DESKTOP)]


@pytest.mark.parametrize("username,face,viewport", FACES)
def test_each_role_lands_on_its_face(browser, live_server, username, face, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/login")
    assert page.locator("h1").inner_text() == "登录"
    shot(page, f"login-zh-{viewport['width']}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "fieldapp-demo")
    page.click("button[type=submit]")
    page.wait_for_url(live_server + face)
    if face == "/app/":
        # The phone app takes over the web sign-in: no second password prompt.
        page.wait_for_selector(".job-card")
        shot(page, f"app-{username}-handoff-zh-{viewport['width']}")
        assert not errors, errors
        context.close()
        return
    shot(page, f"{face.strip('/')}-{username}-zh-{viewport['width']}")
    # Every control a gloved finger must hit is at least 44 px tall.
    for box in page.eval_on_selector_all(
            "button, a.button, input:not([type=hidden]), a.lang",
            # only what is drawn: a control inside a `hidden` block (the board's "under way"
            # override until such a job is picked) is no target yet
            "els => els.filter(e => e.getClientRects().length)"
            "          .map(e => e.getBoundingClientRect().height)"):
        assert box >= 44, f"tap target only {box}px high on {face}"
    page.click("a.lang")  # to English
    page.wait_for_load_state()
    shot(page, f"{face.strip('/')}-{username}-en-{viewport['width']}")
    assert "Sign out" in page.content()
    assert not errors, errors
    context.close()


def test_wrong_password_says_so(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "tech1")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "Wrong user name or password." in page.locator(".alert").inner_text()
    shot(page, "login-failed-en-390")
    context.close()

"""The review pages in a real browser at desktop size: no CSP violations, screenshots."""
import pytest

from browser_kit import shot
from conftest import ApiClient, complete_job
from review_kit import tech_jobs

pytestmark = pytest.mark.browser


def test_review_pages_render_without_csp_errors(browser, live_server, app):
    api = ApiClient(app.test_client())
    from fieldapp.extensions import db
    from fieldapp.models import User
    with app.app_context():
        demo = {u.username: u.id for u in db.session.query(User).all()}
    job = tech_jobs(api, demo)["installation"]
    complete_job(api, job["id"])
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + "/login")
    page.fill("input[name=username]", "supervisor1")
    page.fill("input[name=password]", "fieldapp-demo")
    page.click("button[type=submit]")
    page.wait_for_url(live_server + "/review/")
    shot(page, "review-queue")
    page.click(f"text={job['ref']}")
    page.wait_for_selector("img.thumb")
    shot(page, "review-job")
    page.click("button[value=approve]")
    page.wait_for_url(live_server + "/review/")
    page.goto(live_server + f"/review/verify/{job['id']}")
    assert page.locator(".verdict-ok").count() == 1
    shot(page, "review-verify")
    page.goto(live_server + "/review/kpis")
    assert page.locator("svg").count() >= 1
    shot(page, "review-kpis")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.close()

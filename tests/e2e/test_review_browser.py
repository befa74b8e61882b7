"""The review pages in a real browser at desktop size: no CSP violations, screenshots."""
import pytest

from tests.support.browser_kit import shot, web_sign_in
from tests.support.helpers import ApiClient, complete_job
from tests.support.review_kit import tech_jobs

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
    web_sign_in(page, live_server, "supervisor1")
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
    assert page.locator("table.by-cause").count() == 1
    shot(page, "review-kpis")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.close()
    # The customer's check of the QR code on the report: a phone, no login.
    from fieldapp.models import Seal
    with app.app_context():
        digest = db.session.query(Seal).filter_by(job_id=job["id"]).one().digest
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    phone.goto(live_server + f"/verify/{digest}")
    assert phone.locator(".verdict-ok").count() == 1
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(phone, "public-verify-phone")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    phone.close()

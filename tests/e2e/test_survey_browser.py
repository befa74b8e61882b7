"""The customer's return-visit survey in a real browser on a phone-sized page (390x844): a low
score and an open issue open the complaint and the follow-up job. The office's queue at phone
and desktop size. Screenshots land in screenshots/."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.browser_kit import DESKTOP, PHONE, shot, web_sign_in
from tests.support.visitkit import approve, run_create_due

pytestmark = pytest.mark.browser


def _visits(api, job_id):
    return api.get(f"/api/v1/return-visits?job_id={job_id}", as_="dispatcher1").get_json()[
        "items"]


def test_a_customer_answers_the_survey_on_a_phone(browser, live_server, app, api, demo, clock):
    job = approve(api, demo)
    clock.advance(timedelta(days=3))
    assert len(run_create_due(app)) == 1
    [visit] = _visits(api, job["id"])
    path = "/survey/" + visit["survey_url"].rsplit("/", 1)[1]

    context = browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  has_touch=True, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server + path)
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert job["ref"] in page.content()
    shot(page, "survey-zh-390")
    # Nothing wider than the phone; every tap target at least 44 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for height in page.eval_on_selector_all(
            "label.sv-score, button, a.sv-lang, textarea",
            "els => els.map(e => e.getBoundingClientRect().height)"):
        assert height >= 44, f"tap target only {height}px high"
    page.click("a.sv-lang")  # to English
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert "How satisfied are you" in page.content()
    # A low score and an open issue.
    page.locator("label.sv-score", has_text="2").click()
    assert page.locator("input[name=score][value='2']").is_checked()
    page.fill("textarea[name=comment]", "The technician was late.")
    page.fill("textarea[name=issues]", "The cabinet door still does not close.")
    shot(page, "survey-en-filled-390")
    page.click("button.sv-send")
    page.wait_for_selector("text=Thank you!")
    assert "contact you soon" in page.content()
    shot(page, "survey-en-thanks-390")
    # The follow-up exists, linked.
    [answered] = _visits(api, job["id"])
    assert answered["status"] == "done" and answered["channel"] == "survey"
    assert answered["score"] == 2
    complaint = api.get(f"/api/v1/complaints/{answered['complaint_id']}",
                        as_="dispatcher1").get_json()
    assert complaint["status"] == "open" and complaint["severity"] == "general"
    followup = api.get(f"/api/v1/jobs/{answered['followup_job_id']}",
                       as_="dispatcher1").get_json()
    assert followup["type"] == "repair" and "does not close" in followup["problem"]
    # The link is used now.
    page.goto(live_server + path)
    assert page.locator("textarea[name=comment]").count() == 0
    shot(page, "survey-zh-already-answered-390")
    assert not errors, errors
    context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_the_office_queue(browser, live_server, app, api, demo, clock, viewport):
    first = approve(api, demo, "repair")
    clock.advance(timedelta(days=1))
    approve(api, demo, "installation", seed=1)
    clock.advance(timedelta(days=4, hours=1))   # the first is overdue, the second due
    assert len(run_create_due(app)) == 2
    [visit] = _visits(api, first["id"])
    api.post(f"/api/v1/return-visits/{visit['id']}/result", as_="dispatcher1",
             json={"score": 3, "comment": "一般", "issues": "抽屉有异响"})
    approve(api, demo, "repair", tech="tech2", seed=2)
    clock.advance(timedelta(days=3))
    run_create_due(app)

    context = browser.new_context(viewport=viewport, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    web_sign_in(page, live_server, "dispatcher1")
    page.wait_for_url(live_server + "/dispatch/")
    page.goto(live_server + "/dispatch/return-visits")
    assert page.locator("article.rv").count() == 2
    assert page.locator("article.rv-overdue").count() == 1
    shot(page, f"dispatch-return-visits-zh-{viewport['width']}")
    for height in page.eval_on_selector_all(
            "label.rv-score, .rv button",
            "els => els.map(e => e.getBoundingClientRect().height)"):
        assert height >= 44
    # Record a call: score 5 on the first in the queue.
    card = page.locator("article.rv").first
    card.locator("label.rv-score", has_text="5").click()
    card.locator(".rv-form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("article.rv").count() == 1
    # The job page of the one left shows its return visit, with a new link on demand.
    page.locator("article.rv .rv-facts a").first.click()
    page.wait_for_selector("#return-visit")
    assert page.locator("#return-visit a.survey-link").count() == 1
    old_link = page.locator("#return-visit a.survey-link").inner_text()
    page.locator("#return-visit form button").click()
    page.wait_for_selector("#return-visit a.survey-link")
    assert page.locator("#return-visit a.survey-link").inner_text() != old_link
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.locator("#return-visit").scroll_into_view_if_needed()
    shot(page, f"dispatch-job-return-visit-zh-{viewport['width']}")
    page.goto(live_server + "/dispatch/return-visits")
    page.click("a.lang")
    page.wait_for_load_state()
    shot(page, f"dispatch-return-visits-en-{viewport['width']}")
    assert "Recent answers" in page.content()
    assert not errors, errors
    context.close()

"""Every page of the desk, the review and the survey (and the public seal check) in a real
browser, in zh-CN and English: axe-core finds no violation, each page has a meta description
in its language (issue 17). The pages are read from the app's URL map, so a new page is
walked (or this test fails asking for its parameters)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fieldapp.complaints.models import Complaint
from fieldapp.extensions import db
from fieldapp.sealing.models import Seal
from tests.e2e.test_pwa_screens import axe_violations
from tests.support.browser_kit import DESKTOP, PHONE, web_sign_in
from tests.support.helpers import complete_job, new_uuid, sync_push
from tests.support.review_kit import tech_jobs
from tests.support.visitkit import approve, run_create_due

pytestmark = pytest.mark.browser

FACES = ("dispatch", "review", "survey", "verify", "admin")
# Not pages: downloads, images and JSON.
NOT_PAGES = ("json", "csv", "pdf", "blobs", "thumb", "evidence", "lookup")


def _pages(app) -> list[tuple[str, str]]:
    rules = []
    for rule in app.url_map.iter_rules():
        face = rule.endpoint.split(".")[0]
        if face in FACES and "GET" in rule.methods and \
                not any(word in rule.rule or word in rule.endpoint for word in NOT_PAGES):
            rules.append((rule.endpoint, rule))
    return sorted(rules, key=lambda r: r[1].rule)


def _world(app, api, demo, clock) -> dict:
    """A job under review, a sealed one, a complaint, a parts request, two survey links and a
    revoked phone."""
    sealed = approve(api, demo, "repair")
    answered = approve(api, demo, "installation", seed=1)
    delivery = tech_jobs(api, demo)["delivery"]
    pushed = sync_push(api, "tech1", [("parts.request", delivery["id"], {
        "request_id": new_uuid(), "part_name": "铰链", "quantity": 1, "kind": "replacement",
        "reason": "柜门铰链断裂"})])
    assert pushed.status_code == 200
    clock.advance(timedelta(days=3))
    run_create_due(app)
    visits = {v["job_id"]: v for v in api.get("/api/v1/return-visits", as_="dispatcher1")
              .get_json()["items"]}
    low = api.post(f"/api/v1/return-visits/{visits[answered['id']]['id']}/result",
                   as_="dispatcher1", json={"score": 2, "comment": "态度好", "issues": "门关不上"})
    assert low.status_code == 200
    # A job waiting for review with an open complaint: the queue's red tag is checked too.
    complete_job(api, delivery["id"], seed=2)
    assert api.post("/api/v1/complaints", as_="dispatcher1", json={
        "job_id": delivery["id"], "customer": {"name": "周女士", "phone": "13912340003"},
        "about": "technician", "content": "师傅把地板划伤了", "severity": "general"}
    ).status_code == 201
    # /admin/devices with a revoked phone that had changes waiting (its "lost" list).
    lost = api.login("tech2", device="丢失的手机")
    assert api.get("/api/v1/sync/pull?cursor=&pending=12", as_="tech2").status_code == 200
    assert api.post(f"/api/v1/devices/{lost['device_id']}/revoke", as_="admin").status_code == 200
    with app.app_context():
        complaint = db.session.scalars(select(Complaint)).first()
        digest = db.session.scalars(select(Seal.digest).where(Seal.job_id == sealed["id"])
                                    ).one()
    return {"job_id": sealed["id"], "complaint_id": complaint.id, "digest": digest,
            "token": visits[sealed["id"]]["survey_url"].rsplit("/", 1)[1]}


def _check(page, name, lang):
    description = page.locator("meta[name=description]")
    assert description.count() == 1, f"{name}: no meta description"
    text = description.get_attribute("content") or ""
    assert len(text) >= 8, f"{name}: meta description too short: {text!r}"
    if lang == "zh":
        assert any("\u4e00" <= c <= "\u9fff" for c in text), f"{name}: {text!r} not Chinese"
    axe = axe_violations(page)
    assert not axe["violations"], f"{name} ({lang}): axe: {axe['violations']}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_office_and_survey_page_passes_axe(browser, live_server, app, api, demo, clock,
                                                  lang):
    world = _world(app, api, demo, clock)
    values = {"job_id": world["job_id"], "complaint_id": world["complaint_id"],
              "digest": world["digest"], "token": world["token"]}
    code = "zh_CN" if lang == "zh" else "en"
    walked = []
    for user in ("admin", "supervisor1"):
        context = browser.new_context(viewport=DESKTOP, locale="zh-CN" if lang == "zh" else "en",
                                      bypass_csp=True)  # axe is injected inline
        page = context.new_page()
        web_sign_in(page, live_server, user)
        page.wait_for_load_state()
        page.goto(f"{live_server}/lang/{code}")
        faces = ("dispatch", "admin") if user == "admin" else ("review",)
        for endpoint, rule in _pages(app):
            if endpoint.split(".")[0] not in faces:
                continue
            missing = [arg for arg in rule.arguments if arg not in values]
            assert not missing, f"{endpoint}: give the walk a value for {missing}"
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<{arg}>", str(values[arg]))
            response = page.goto(live_server + path)
            assert response.status == 200, (path, response.status)
            _check(page, path, lang)
            walked.append(endpoint)
        context.close()
    # The survey on a phone: the form, the form refused (no score), thanks, already answered;
    # an unknown link; the public seal check.
    context = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True,
                                  bypass_csp=True)
    page = context.new_page()
    query = "?lang=en" if lang == "en" else ""
    survey = f"{live_server}/survey/{world['token']}{query}"
    page.goto(survey)
    _check(page, "survey form", lang)
    page.click("button.sv-send")
    page.wait_for_selector(".sv-error")
    _check(page, "survey refused", lang)
    page.locator("label.sv-score", has_text="5").click()
    page.click("button.sv-send")
    page.wait_for_selector("h1")
    _check(page, "survey thanks", lang)
    page.goto(survey)
    _check(page, "survey answered", lang)
    page.goto(f"{live_server}/survey/not-a-token{query}")
    _check(page, "survey unknown", lang)
    page.goto(f"{live_server}/verify/{world['digest']}")
    _check(page, "public verify", lang if lang == "zh" else "zh")
    walked += ["survey.survey", "verify.seal_page"]
    context.close()
    expected = {endpoint for endpoint, _rule in _pages(app)}
    assert expected <= set(walked), sorted(expected - set(walked))


def test_a_refused_send_back_scrolls_to_its_field(browser, live_server, app, api, demo):
    """The comment field sits at the foot of a long page: the browser lands on it, with the
    message under it and the cursor in it."""
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    page = browser.new_page(viewport=DESKTOP)
    web_sign_in(page, live_server, "supervisor1")
    page.wait_for_url(live_server + "/review/")
    page.goto(f"{live_server}/review/jobs/{job['id']}")
    assert page.evaluate("document.scrollingElement.scrollHeight") > DESKTOP["height"] * 2
    page.click("button[value=rework]")
    page.wait_for_selector("#comment-error")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'comment'")
    box = page.locator("#comment-error").bounding_box()
    assert 0 <= box["y"] <= DESKTOP["height"] - box["height"], box
    assert page.evaluate("window.scrollY") > 0
    page.close()

"""/survey/<token> (the customer, no login) and /dispatch/return-visits (the office)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.support.visitkit import due_visit, token_of
from tests.support.web_kit import csrf_from


def zh_text(app, msgid: str) -> str:
    """The zh-CN text of a msgid as the app renders it: the catalogue's once the lead has
    merged fieldapp/translations/pending-visits.json (until then Babel answers the msgid)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("zh_CN"):
        return gettext(msgid)


def _count(app, model):
    from fieldapp.extensions import db

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _job(app, job_id):
    from fieldapp.extensions import db
    from fieldapp.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        db.session.expunge(job)
        return job


# --- the customer's survey -----------------------------------------------------------------

def test_the_survey_shows_what_the_customer_needs_in_chinese_by_default(app, api, demo,
                                                                      clock, client):
    visit = due_visit(app, api, demo, clock)
    job = _job(app, visit["job_id"])
    response = client.get(f"/survey/{token_of(visit)}",
                          headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert zh_text(app, "How satisfied are you with our visit?") in html
    assert job.ref in html and job.product_model in html and "张师傅" in html
    # No address, no phone numbers.
    assert job.address not in html and job.contact_phone not in html
    assert re.search(r"1[3-9]\d{9}", html) is None
    # Five large score buttons, CSRF, no inline script, CSP set.
    assert len(re.findall(r'type="radio"[^>]*name="score"|name="score"[^>]*type="radio"',
                          html)) == 5
    assert 'name="csrf_token"' in html and "<script" not in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    english = client.get(f"/survey/{token_of(visit)}?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "How satisfied are you" in english


def test_answering_with_a_low_score_opens_the_follow_up_once(app, api, demo, clock, client):
    from fieldapp.models import Complaint, Job

    visit = due_visit(app, api, demo, clock)
    url = f"/survey/{token_of(visit)}"
    page = client.get(url).get_data(as_text=True)
    # Without the CSRF token: refused, nothing stored.
    refused = client.post(url, data={"score": "2"})
    assert refused.status_code == 400
    assert _count(app, Complaint) == 0
    # No score: the form again, with a message, nothing stored.
    empty = client.post(url, data={"csrf_token": csrf_from(page), "comment": "?"})
    assert empty.status_code == 400 and "sv-error" in empty.get_data(as_text=True)
    assert _count(app, Complaint) == 0
    jobs_before = _count(app, Job)
    done = client.post(url, data={"csrf_token": csrf_from(page), "score": "2",
                                  "comment": "师傅迟到了", "issues": "柜门还是关不严"})
    assert done.status_code == 200
    assert "sv-big" in done.get_data(as_text=True)
    assert _count(app, Complaint) == 1 and _count(app, Job) == jobs_before + 1
    item = api.get(f"/api/v1/return-visits?job_id={visit['job_id']}",
                   as_="dispatcher1").get_json()["items"][0]
    assert item["status"] == "done" and item["channel"] == "survey" and item["score"] == 2
    assert item["complaint_id"] and item["followup_job_id"] and item["survey_url"] is None
    # Used: "already answered", and a second answer changes nothing.
    again = client.get(url)
    assert again.status_code == 200 and "sv-big" in again.get_data(as_text=True)
    assert 'name="score"' not in again.get_data(as_text=True)
    second = client.post(url, data={"csrf_token": csrf_from(page), "score": "5"})
    assert second.status_code == 409
    assert _count(app, Complaint) == 1 and _count(app, Job) == jobs_before + 1
    # The office cannot answer it again either.
    office = api.post(f"/api/v1/return-visits/{visit['id']}/result", as_="dispatcher1",
                      json={"score": 5})
    assert office.status_code == 409


def test_a_link_the_office_already_answered_says_so(app, api, demo, clock, client):
    visit = due_visit(app, api, demo, clock)
    api.post(f"/api/v1/return-visits/{visit['id']}/result", as_="dispatcher1",
             json={"score": 5})
    response = client.get(f"/survey/{token_of(visit)}?lang=en")
    assert response.status_code == 200
    assert "already been answered" in response.get_data(as_text=True)


def test_expired_and_unknown_links_get_a_clear_page(app, api, demo, clock, client):
    visit = due_visit(app, api, demo, clock)
    url = f"/survey/{token_of(visit)}"
    page = client.get(url).get_data(as_text=True)
    clock.advance(timedelta(days=14))
    expired = client.get(url + "?lang=en")
    assert expired.status_code == 410
    text = expired.get_data(as_text=True)
    assert "expired" in text and "Traceback" not in text
    late = client.post(url, data={"csrf_token": csrf_from(page), "score": "1"})
    assert late.status_code == 410
    unknown = client.get("/survey/" + "A" * 43 + "?lang=en")
    assert unknown.status_code == 404 and "not valid" in unknown.get_data(as_text=True)
    assert client.get("/survey/short").status_code == 404
    item = api.get("/api/v1/return-visits", as_="dispatcher1").get_json()["items"][0]
    assert item["status"] == "due" and item["survey_url"] is None


def test_the_survey_is_rate_limited(app, api, demo, clock, client):
    visit = due_visit(app, api, demo, clock)
    codes = [client.get(f"/survey/{token_of(visit)}").status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429


# --- the office's queue --------------------------------------------------------------------

class Desk:
    def __init__(self, app, username):
        self.client = app.test_client()
        page = self.client.get("/login").get_data(as_text=True)
        self.token = csrf_from(page)
        response = self.client.post("/login", data={
            "username": username, "password": "fieldapp-demo", "csrf_token": self.token})
        assert response.status_code == 302
        self.client.get("/lang/en?next=/login")


def test_the_queue_lists_due_visits_with_the_customers_phone(app, api, demo, clock):
    visit = due_visit(app, api, demo, clock)
    job = _job(app, visit["job_id"])
    desk = Desk(app, "dispatcher1")
    html = desk.client.get("/dispatch/return-visits").get_data(as_text=True)
    assert 'href="/dispatch/return-visits"' in html and 'aria-current="page"' in html
    assert job.contact_name in html and job.contact_phone in html and job.ref in html
    assert "rv-overdue" not in html
    clock.advance(timedelta(days=2, minutes=1))
    html = desk.client.get("/dispatch/return-visits").get_data(as_text=True)
    assert "rv-overdue" in html and "Overdue" in html
    zh = Desk(app, "dispatcher1").client
    zh.get("/lang/zh_CN?next=/login")
    page = zh.get("/dispatch/return-visits").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert zh_text(app, "Return visits") in page


def test_recording_the_call_on_the_desk(app, api, demo, clock):
    from fieldapp.models import Complaint

    visit = due_visit(app, api, demo, clock)
    desk = Desk(app, "dispatcher1")
    html = desk.client.get("/dispatch/return-visits").get_data(as_text=True)
    prefix = f"v{visit['id']}-"
    url = f"/dispatch/return-visits/{visit['id']}/result"
    # Without CSRF: refused.
    assert desk.client.post(url, data={prefix + "score": "3"}).status_code == 400
    token = re.search(rf'name="{prefix}csrf_token"[^>]*value="([^"]+)"', html).group(1)
    # No score: the page again with the message, nothing stored.
    missing = desk.client.post(url, data={prefix + "csrf_token": token})
    assert missing.status_code == 400 and "Choose a score" in missing.get_data(as_text=True)
    response = desk.client.post(url, data={prefix + "csrf_token": token, prefix + "score": "3",
                                           prefix + "comment": "一般"},
                                follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Complaint" in html and "TS" in html and "No return visit to make." in html
    assert _count(app, Complaint) == 1
    again = desk.client.post(url, data={prefix + "csrf_token": token, prefix + "score": "5"},
                             follow_redirects=True)
    assert "already been answered" in again.get_data(as_text=True)
    assert _count(app, Complaint) == 1


def test_technicians_and_supervisors_do_not_get_the_desk_queue(app, demo):
    assert Desk(app, "tech1").client.get("/dispatch/return-visits").status_code == 403
    assert Desk(app, "supervisor1").client.get("/dispatch/return-visits").status_code == 403


def test_the_settings_page_edits_the_number_of_days(app, api, demo, clock):
    from fieldapp.extensions import db
    from fieldapp.models import SettingChange

    desk = Desk(app, "admin")
    html = desk.client.get("/dispatch/settings").get_data(as_text=True)
    assert 'name="return_visit_days"' in html and 'value="3"' in html
    # The form as the page fills it (the defaults), with the number of days changed.
    from fieldapp.faces.dispatch.forms import SettingsForm
    from fieldapp.faces.dispatch.settings import _fill
    from fieldapp.settings import service as settings_service

    form = {}

    with app.test_request_context():
        f = SettingsForm(formdata=None)
        _fill(f, app.extensions["fieldapp.policy"], settings_service.DeskSettings())
        for field in f:
            if field.name == "csrf_token":
                continue
            value = field.data
            if isinstance(value, list):
                form[field.name] = [str(v) for v in value]
            elif hasattr(value, "strftime"):
                form[field.name] = value.strftime("%H:%M")
            else:
                form[field.name] = "" if value is None else str(value)
    form["return_visit_days"] = "7"
    form["csrf_token"] = csrf_from(html)
    response = desk.client.post("/dispatch/settings", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with app.app_context():
        change = db.session.execute(select(SettingChange).where(
            SettingChange.key == "desk")).scalar_one()
        assert change.new["return_visit_days"] == 7 and change.by_id == demo["admin"]
    assert 'value="7"' in desk.client.get("/dispatch/settings").get_data(as_text=True)


def test_the_kpi_page_shows_satisfaction(app, api, demo, clock):
    visit = due_visit(app, api, demo, clock)
    api.post(f"/api/v1/return-visits/{visit['id']}/result", as_="dispatcher1",
             json={"score": 4})
    desk = Desk(app, "supervisor1")
    html = desk.client.get("/review/kpis").get_data(as_text=True)
    cell = re.search(r'<td class="satisfaction">(.*?)</td>', html, re.S).group(1)
    assert "100 %" in cell and "(1/1)" in cell and "4.0" in cell


def test_the_job_page_shows_its_visit_and_a_new_link_replaces_an_expired_one(
        app, api, demo, clock, client):
    from fieldapp.models import Delivery

    visit = due_visit(app, api, demo, clock)
    old_url = visit["survey_url"]
    desk = Desk(app, "dispatcher1")
    page = desk.client.get(f"/dispatch/jobs/{visit['job_id']}").get_data(as_text=True)
    assert 'id="return-visit"' in page and old_url in page
    assert f'/dispatch/return-visits/{visit["id"]}/resend' in page
    sent_before = _count(app, Delivery)
    clock.advance(timedelta(days=15))  # the first link has expired
    page = desk.client.get(f"/dispatch/jobs/{visit['job_id']}").get_data(as_text=True)
    assert "The link has expired." in page and old_url not in page
    url = f"/dispatch/return-visits/{visit['id']}/resend"
    assert desk.client.post(url, data={"from_job": "1"}).status_code == 400  # no CSRF
    assert _count(app, Delivery) == sent_before
    response = desk.client.post(url, data={"csrf_token": csrf_from(page), "from_job": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/dispatch/jobs/{visit['job_id']}#return-visit")
    assert _count(app, Delivery) > sent_before  # the new link went out
    item = api.get(f"/api/v1/return-visits?job_id={visit['job_id']}",
                   as_="dispatcher1").get_json()["items"][0]
    assert item["survey_url"] and item["survey_url"] != old_url
    # The old link is dead, the new one answers; the job page shows the answer.
    assert client.get(old_url.replace("http://127.0.0.1:5000", "") + "?lang=en"
                      ).status_code == 404
    new_path = item["survey_url"].replace("http://127.0.0.1:5000", "")
    form = client.get(new_path).get_data(as_text=True)
    assert client.post(new_path, data={"csrf_token": csrf_from(form), "score": "5"}
                       ).status_code in (200, 302)
    page = desk.client.get(f"/dispatch/jobs/{visit['job_id']}").get_data(as_text=True)
    assert "<strong>5</strong>/5" in page and "Return visit answered" in page
    # Answered: no new link any more, with a clear message.
    again = desk.client.post(url, data={"csrf_token": csrf_from(page), "from_job": "1"},
                             follow_redirects=True)
    assert "already been answered" in again.get_data(as_text=True)


def test_only_the_office_sends_a_new_link(app, api, demo, clock):
    visit = due_visit(app, api, demo, clock)
    for who in ("tech1", "supervisor1"):
        user = Desk(app, who)
        assert user.client.post(f"/dispatch/return-visits/{visit['id']}/resend",
                                data={"csrf_token": user.token}).status_code == 403
    item = api.get("/api/v1/return-visits", as_="dispatcher1").get_json()["items"][0]
    assert item["survey_url"] == visit["survey_url"]

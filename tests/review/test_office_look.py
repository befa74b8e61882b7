"""One look for the office, and forms that say what is wrong where it is wrong (issue 17):
the review has the desk's tabs and messages, a refused send-back puts its message under the
comment field (and the page goes there), a required choice is marked and never pre-chosen,
and the survey names the technician as the customer knows them."""
from __future__ import annotations

import re

from tests.support.helpers import complete_job
from tests.support.review_kit import get, tech_jobs
from tests.support.visitkit import due_visit, token_of
from tests.support.web_kit import csrf_from, signed_in_client


def test_review_and_desk_share_tabs_and_stylesheet(app, demo):
    supervisor, _token = signed_in_client(app, "supervisor1")
    dispatcher, _token = signed_in_client(app, "dispatcher1")
    review = supervisor.get("/review/kpis").get_data(as_text=True)
    desk = dispatcher.get("/dispatch/jobs").get_data(as_text=True)
    for html in (review, desk):
        assert "/static/css/office.css" in html and "/static/office.js" in html
        nav = re.search(r'<nav class="office-nav[^"]*" aria-label="[^"]+">(.*?)</nav>', html, re.S)
        assert nav, "no office tabs"
        assert nav.group(1).count('aria-current="page"') == 1
    assert re.search(r'href="/review/kpis" aria-current="page"', review)


def test_a_refused_send_back_is_shown_at_the_comment_field(app, api, demo):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    client, _token = signed_in_client(app, "supervisor1")
    page = client.get(f"/review/jobs/{job['id']}").get_data(as_text=True)
    response = client.post(f"/review/jobs/{job['id']}/decide",
                           data={"csrf_token": csrf_from(page), "decision": "rework",
                                 "comment": "  "})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/review/jobs/{job['id']}#decide")
    assert get(api, job["id"])["status"] == "completed"  # nothing stored
    html = client.get(f"/review/jobs/{job['id']}").get_data(as_text=True)
    decide = html[html.index('id="decide"'):]
    assert 'aria-invalid="true"' in decide and 'class="field-error"' in decide
    assert "审核意见" in decide or "comment" in decide.lower()
    assert 'class="flashes"' not in html  # not at the top of the page
    # Shown once: reloading does not repeat it.
    assert 'class="field-error"' not in client.get(f"/review/jobs/{job['id']}").get_data(
        as_text=True)


def test_the_complaint_class_is_marked_required_and_not_chosen_for_you(app, demo):
    client, _token = signed_in_client(app, "dispatcher1")
    html = client.get("/dispatch/complaints/new").get_data(as_text=True)
    fieldset = html[html.index('class="fld choices severity'):]
    fieldset = fieldset[:fieldset.index("</fieldset>")]
    assert 'class="req"' in fieldset and "必填" in fieldset
    assert "checked" not in fieldset and fieldset.count("required") >= 2


def test_the_survey_names_the_technician_and_marks_the_score(app, api, demo, clock):
    visit = due_visit(app, api, demo, clock)
    html = app.test_client().get(f"/survey/{token_of(visit)}").get_data(as_text=True)
    assert "张师傅" in html and "tech1" not in html
    legend = html[html.index("<legend>"):html.index("</legend>")]
    assert 'class="sv-req"' in legend and "必填" in legend
    form = html[html.index('class="sv-scores'):html.index("</fieldset>")]
    assert "checked" not in form

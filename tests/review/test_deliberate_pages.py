"""Issue 17, deliberate decisions on the office's pages, in both languages: the review page
puts an open complaint in red above the decision and asks for the override and its reason;
the desk's job page warns before cancelling a job under way and asks for the override; a
refused parts request shows its reason on the job pages."""
import pytest

from tests.support.deskkit import Desk
from tests.support.helpers import complete_job, new_uuid, sync_push
from tests.support.review_kit import get, tech_jobs

TEXT = {
    "zh_CN": {"open": "此工单仍有未结投诉", "override": "越过投诉批准",
              "refused": "此工单仍有未结投诉。如仍要批准", "marked": "越过未结投诉",
              "under_way": "已在前往途中或正在施工", "cancel_override": "已通知技术人员",
              "job_under_way": "技术人员已在前往途中或正在施工", "refusal": "拒绝理由",
              "cancelled": "在工单进行中将其取消"},
    "en": {"open": "A complaint about this job is still open", "override":
           "Approve despite the open complaint", "refused":
           "A complaint about this job is still open. To approve anyway",
           "marked": "Approved and sealed the job over the open complaint", "under_way":
           "is already on the way or at work on this job", "cancel_override":
           "The technician has been told", "job_under_way":
           "The technician is already on the way or at work", "refusal":
           "Reason for refusing", "cancelled": "Cancelled the job while it was under way"},
}


def complaint_about(api, job):
    response = api.post("/api/v1/complaints", as_="dispatcher1", json={
        "job_id": job["id"], "customer": {"name": "周女士", "phone": "13912340003"},
        "about": "technician", "content": "师傅把地板划伤了", "severity": "major"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_review_page_shows_the_open_complaint_and_asks_for_the_override(app, api, demo, lang):
    words = TEXT[lang]
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    complaint = complaint_about(api, job)
    web = Desk(app, "supervisor1", lang=lang)
    html = web.html(f"/review/jobs/{job['id']}")
    decide = html[html.index('id="decide"'):]
    # Above the decision, in red: the complaint (linked) and the override with its reason.
    alert = decide[:decide.index("<form")]
    assert 'class="alert error open-complaints"' in alert and words["open"] in alert
    assert complaint["ref"] in alert and f"/review/complaints/{complaint['id']}" in alert
    assert 'name="override"' in decide and words["override"] in decide

    # Approve without the override: refused, said in the reader's language, nothing stored.
    answer = web.post(f"/review/jobs/{job['id']}/decide",
                      data={"decision": "approve", "comment": "好"})
    assert answer.status_code == 302 and answer.location.endswith("#decide")
    assert words["refused"] in web.html(f"/review/jobs/{job['id']}")
    assert get(api, job["id"])["status"] == "completed"
    # The override without a reason: refused too.
    web.post(f"/review/jobs/{job['id']}/decide", data={"decision": "approve", "override": "y"})
    assert get(api, job["id"])["status"] == "completed"
    # Both: approved, sealed, and the timeline says it was over the complaint.
    answer = web.post(f"/review/jobs/{job['id']}/decide", data={
        "decision": "approve", "override": "y", "comment": "投诉另案处理"})
    assert answer.status_code == 302 and answer.location.endswith("/review/")
    after = get(api, job["id"])
    assert after["status"] == "approved" and after["review"]["comment"] == "投诉另案处理"
    html = web.html(f"/review/jobs/{job['id']}")
    assert words["marked"] in html and complaint["ref"] in html and "投诉另案处理" in html
    assert 'id="decide"' not in html


def test_review_page_without_a_complaint_asks_for_no_override(app, api, demo):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    html = Desk(app, "supervisor1").html(f"/review/jobs/{job['id']}")
    assert 'id="decide"' in html and 'name="override"' not in html
    assert "open-complaints" not in html


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_desk_asks_for_the_override_before_cancelling_a_job_under_way(app, api, demo, lang):
    words = TEXT[lang]
    job = tech_jobs(api, demo)["repair"]
    sync_push(api, "tech1", [("job.status", job["id"], {"status": s})
                             for s in ("en_route", "on_site")])
    desk = Desk(app, "dispatcher1", lang=lang)
    html = desk.html(f"/dispatch/jobs/{job['id']}")
    assert words["under_way"] in html and 'class="alert error under-way"' in html
    assert 'name="override"' in html and words["cancel_override"] in html
    # The board marks the card so its panel asks for the override too.
    board = desk.html("/dispatch/?day=2026-11-24")
    card = board[board.index(f'data-ref="{job["ref"]}"') - 600:board.index(f'data-ref="{job["ref"]}"') + 600]
    assert 'data-under-way="y"' in card and 'id="cancel-override"' in board

    answer = desk.post(f"/dispatch/jobs/{job['id']}/cancel",
                       data={"reason": "顾客临时取消", "next": f"/dispatch/jobs/{job['id']}"})
    assert answer.status_code == 302
    assert words["job_under_way"] in desk.html(f"/dispatch/jobs/{job['id']}")
    assert get(api, job["id"])["status"] == "on_site"
    answer = desk.post(f"/dispatch/jobs/{job['id']}/cancel", data={
        "reason": "顾客临时取消，已通知师傅", "override": "y",
        "next": f"/dispatch/jobs/{job['id']}"})
    assert answer.status_code == 302
    assert get(api, job["id"])["status"] == "cancelled"
    timeline = desk.html(f"/dispatch/jobs/{job['id']}")
    assert words["cancelled"] in timeline and "顾客临时取消，已通知师傅" in timeline


def test_a_job_not_under_way_is_cancelled_without_an_override(app, api, demo):
    job = tech_jobs(api, demo)["delivery"]
    desk = Desk(app, "dispatcher1")
    html = desk.html(f"/dispatch/jobs/{job['id']}")
    assert "under-way" not in html and 'name="override"' not in html
    desk.post(f"/dispatch/jobs/{job['id']}/cancel", data={"reason": "顾客改期"})
    assert get(api, job["id"])["status"] == "cancelled"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_refused_parts_request_shows_its_reason(app, api, demo, lang):
    job = tech_jobs(api, demo)["repair"]
    request_id = new_uuid()
    sync_push(api, "tech1", [("parts.request", job["id"], {
        "request_id": request_id, "part_name": "扶手木架", "quantity": 1,
        "kind": "replacement", "reason": "木架断裂"})])
    web = Desk(app, "supervisor1", lang=lang)
    queue = web.html("/review/parts")
    card = queue[queue.index(f'id="p-{request_id}"'):]
    card = card[:card.index("</article>")]
    # The reason is required by the page to refuse; approving skips that check.
    assert "required" in card[card.index("<textarea"):card.index("</textarea>")]
    assert 'value="approve" class="primary" formnovalidate' in card
    web.post(f"/review/parts/{request_id}/decide", data={"decision": "refuse", "reason": ""})
    assert get(api, job["id"])["parts_requests"][0]["status"] == "pending"
    web.post(f"/review/parts/{request_id}/decide",
             data={"decision": "refuse", "reason": "可现场修复，无需更换"})
    assert get(api, job["id"])["parts_requests"][0]["status"] == "refused"
    for page in (f"/review/jobs/{job['id']}",
                 f"/dispatch/jobs/{job['id']}"):
        who = web if page.startswith("/review") else Desk(app, "dispatcher1", lang=lang)
        html = who.html(page)
        assert f"{TEXT[lang]['refusal']}" in html and "可现场修复，无需更换" in html


def test_a_rescheduled_jobs_review_page_renders(app, api, demo):
    """A `rescheduled` event's `to` is a window (a list): the timeline once read it as a
    status and answered 500 for every job that was ever rescheduled."""
    job = tech_jobs(api, demo)["inspection"]
    assert api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1", json={
        "scheduled_start": "2026-11-24T17:00:00+08:00"}).status_code == 200
    complete_job(api, job["id"])
    assert Desk(app, "supervisor1").get(f"/review/jobs/{job['id']}").status_code == 200


@pytest.mark.parametrize("lang, tag", [("zh_CN", "投诉未结"), ("en", "Open complaint")])
def test_the_review_queue_marks_a_job_with_an_open_complaint(app, api, demo, lang, tag):
    """Approving it needs an override: the queue says so before the supervisor opens it."""
    jobs = tech_jobs(api, demo)
    marked, plain = jobs["repair"], jobs["installation"]
    complete_job(api, marked["id"])
    complete_job(api, plain["id"], seed=2)
    complaint = complaint_about(api, marked)
    web = Desk(app, "supervisor1", lang=lang)

    def row(job):
        html = web.html("/review/")
        at = html.index(f'/review/jobs/{job["id"]}"')
        return html[at:html.index("</tr>", at)]

    tagged = row(marked)
    assert 'class="tag bad open-complaint"' in tagged
    assert f"{tag} {complaint['ref']}" in tagged
    assert f"/review/complaints/{complaint['id']}" in tagged
    assert "open-complaint" not in row(plain)
    # Resolved: no longer open, no longer marked.
    assert api.patch(f"/api/v1/complaints/{complaint['id']}", as_="dispatcher1", json={
        "status": "resolved", "result": "已修复地板"}).status_code == 200
    assert "open-complaint" not in row(marked)

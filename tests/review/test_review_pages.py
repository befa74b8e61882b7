"""The review face, the service report PDF (API and page) and the e-mail to the customer."""
import re
import subprocess

import pytest

from tests.support.helpers import complete_job
from tests.support.review_kit import approved_job, get, review, tech_jobs
from tests.support.web_kit import csrf_from


def web_client(app, username):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = csrf_from(page)
    response = client.post("/login", data={"username": username, "password": "fieldapp-demo",
                                           "csrf_token": token})
    assert response.status_code == 302
    return client


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          check=True, text=True).stdout


def test_queue_job_page_and_sign_off_on_the_web(app, api, demo):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    client = web_client(app, "supervisor1")
    queue = client.get("/review/").get_data(as_text=True)
    assert job["ref"] in queue
    page = client.get(f"/review/jobs/{job['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    detail = get(api, job["id"])
    assert f"/review/thumbs/{detail['photos'][0]['sha256']}" in html
    assert f"/review/thumbs/{detail['signatures'][0]['sha256']}" in html
    assert " style=" not in html and "<script>" not in html  # strict CSP
    thumb = client.get(f"/review/thumbs/{detail['photos'][0]['sha256']}")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert "immutable" in thumb.headers["Cache-Control"]
    token = csrf_from(html)
    # Rework without a comment is refused and changes nothing.
    client.post(f"/review/jobs/{job['id']}/decide",
                data={"csrf_token": token, "decision": "rework", "comment": " "})
    assert get(api, job["id"])["status"] == "completed"
    response = client.post(f"/review/jobs/{job['id']}/decide",
                           data={"csrf_token": token, "decision": "approve"})
    assert response.status_code == 302
    sealed = get(api, job["id"])
    assert sealed["status"] == "approved" and sealed["seal"]
    verify = client.get(f"/review/verify/{job['id']}").get_data(as_text=True)
    assert sealed["seal"]["digest"] in verify and "verdict-ok" in verify


@pytest.mark.parametrize("who,status", [("tech1", 403), ("dispatcher1", 403)])
def test_review_pages_for_supervisors_and_admins_only(app, api, demo, who, status):
    job = approved_job(api, demo)
    client = web_client(app, who)
    sha = job["photos"][0]["sha256"]
    for path in ("/review/", f"/review/jobs/{job['id']}", f"/review/thumbs/{sha}",
                 f"/review/verify/{job['id']}", "/review/kpis"):
        assert client.get(path).status_code == status, path


def test_report_pdf_from_the_api_has_chinese_checklist_and_seal(api, demo, app, tmp_path):
    job = approved_job(api, demo)
    for who in ("supervisor1", "admin", "dispatcher1"):
        response = api.get(f"/api/v1/jobs/{job['id']}/report.pdf?lang=zh", as_=who)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data, tmp_path)
    assert "服务记录单" in text and job["ref"] in text and job["product_model"] in text
    from fieldapp.extensions import db
    from fieldapp.models import Job
    with app.app_context():
        labels = [i.label_zh for i in db.session.get(Job, job["id"]).template.items]
    flat = re.sub(r"\s+", "", text)
    found = [label for label in labels if re.sub(r"\s+", "", label)[:12] in flat]
    assert len(found) >= len(labels) * 0.8, (labels, text[:2000])
    assert job["seal"]["digest"] in flat
    assert f"/verify/{job['seal']['digest']}" in flat
    # Technicians get no report.
    assert api.get(f"/api/v1/jobs/{job['id']}/report.pdf", as_="tech1").status_code in (403, 404)
    english = pdf_text(api.get(f"/api/v1/jobs/{job['id']}/report.pdf?lang=en",
                               as_="supervisor1").data, tmp_path)
    assert "Service record" in english and job["seal"]["digest"] in re.sub(r"\s+", "", english)


def test_approval_mails_the_report_when_the_customer_has_an_address(api, demo, app, caplog,
                                                                     monkeypatch):
    from fieldapp.notifications import mailer

    sent = []
    monkeypatch.setattr(mailer, "send", lambda message, config: sent.append(message) or "logged")
    job = tech_jobs(api, demo)["repair"]
    from fieldapp.extensions import db
    from fieldapp.models import Job
    with app.app_context():
        db.session.get(Job, job["id"]).customer.email = "chen@example.com"
        db.session.commit()
    complete_job(api, job["id"])
    assert review(api, job["id"], decision="approve").status_code == 200
    assert sent == []  # queued in the outbox (issue 7), sent by the scheduler
    from fieldapp.scheduler.runner import run_once
    assert run_once(app, only=["deliveries"])["deliveries"]["logged"] == 1
    assert run_once(app, only=["deliveries"])["deliveries"]["logged"] == 0
    [message] = sent
    assert message["To"] == "chen@example.com" and job["ref"] in message["Subject"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF")

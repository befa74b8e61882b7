"""One language at a time (issue 17): the review timeline, the service report PDF and every
CSV export read in zh-CN hold no English (no machine code such as "approve", "created",
"answer: goods_checked_before_delivery"), and read in English hold no Chinese, apart from
what people typed (names, addresses, comments) and codes meant for people (FA..., SHA-256)."""
from __future__ import annotations

import re
import subprocess
from datetime import timedelta

from sqlalchemy import select

from fieldapp.accounts.models import User
from fieldapp.complaints.models import Complaint
from fieldapp.extensions import db
from fieldapp.jobs.models import ChecklistAnswer, Job, Note, Review, Signature
from fieldapp.parts.models import PartsRequest
from fieldapp.visits.models import ReturnVisit
from tests.support.helpers import complete_job, new_uuid, sync_push
from tests.support.review_kit import review, tech_jobs
from tests.support.visitkit import run_create_due
from tests.support.web_kit import signed_in_client

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# What a zh-CN reader may meet in Latin letters: job and complaint numbers, the seal's hex
# digest and link, file formats and units.
PEOPLES_CODES = re.compile(
    r"(FA|TS)\d{6}-\d{4}|https?://\S+|\b(?=[0-9a-f]*\d)[0-9a-f]{6,64}\b|SHA-256|\bPDF\b|\bPNG\b|\bJPEG\b|"
    r"\b\d+\b")


def _history(app, api, demo, clock) -> str:
    """A repair job with a parts request, completed, approved, its return visit answered with
    a low score (a complaint and a follow-up job): every kind of event the office reads."""
    job = tech_jobs(api, demo)["repair"]
    pushed = sync_push(api, "tech1", [("parts.request", job["id"], {
        "request_id": new_uuid(), "part_name": "铰链", "quantity": 2, "kind": "replacement",
        "reason": "柜门铰链断裂"})])
    assert pushed.status_code == 200, pushed.get_json()
    complete_job(api, job["id"])
    assert review(api, job["id"], decision="approve", comment="证据齐全").status_code == 200
    clock.advance(timedelta(days=3))
    run_create_due(app)
    visit = api.get(f"/api/v1/return-visits?job_id={job['id']}", as_="dispatcher1"
                    ).get_json()["items"][0]
    answered = api.post(f"/api/v1/return-visits/{visit['id']}/result", as_="dispatcher1",
                        json={"score": 2, "comment": "态度好", "issues": "抽屉还是卡"})
    assert answered.status_code == 200, answered.get_json()
    return job["id"]


def _typed(app) -> list[str]:
    """Every text a person typed or a name a person has: not ours to translate."""
    with app.app_context():
        texts = []
        for job in db.session.scalars(select(Job)):
            texts += [job.contact_name, job.contact_phone, job.address, job.product_model,
                      job.problem, job.status_reason]
        texts += [u.display_name for u in db.session.scalars(select(User))]
        texts += [a.value for a in db.session.scalars(select(ChecklistAnswer))
                  if isinstance(a.value, str) and a.value not in ("accepted",)]
        texts += [n.text for n in db.session.scalars(select(Note))]
        texts += [r.comment for r in db.session.scalars(select(Review))]
        for s in db.session.scalars(select(Signature)):
            texts += [s.signer_name, s.signer_relation]
        for p in db.session.scalars(select(PartsRequest)):
            texts += [p.part_name, p.reason, p.decision_reason]
        for c in db.session.scalars(select(Complaint)):
            texts += [c.content, c.complainant_name, c.complainant_phone, c.result]
        for v in db.session.scalars(select(ReturnVisit)):
            texts += [v.comment, v.issues]
    # Longest first, so a name inside a longer text goes with it.
    return sorted({t for t in texts if t and len(t) > 1}, key=len, reverse=True)


def _without(text: str, typed: list[str]) -> str:
    for value in typed:
        text = text.replace(value, " ")
    return text


def _visible(html: str) -> str:
    html = re.sub(r"(?s)<(script|style|head)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html.replace("&nbsp;", " ").replace("&amp;", "&"))


def _section(html: str, start: str, end: str) -> str:
    at = html.rindex("<", 0, html.index(start) + 1)
    return html[at:html.index(end, at)]


def _pdf_text(data: bytes, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def _readings(app, job_id, lang, tmp_path) -> dict[str, str]:
    """What the office reads, in `lang`: the review's timeline and decision, the PDF, every
    CSV export."""
    supervisor, _token = signed_in_client(app, "supervisor1")
    dispatcher, _token = signed_in_client(app, "dispatcher1")
    code = "zh_CN" if lang == "zh" else "en"
    for client in (supervisor, dispatcher):
        assert client.get(f"/lang/{code}").status_code == 302
    page = supervisor.get(f"/review/jobs/{job_id}").get_data(as_text=True)
    out = {
        "review timeline": _visible(_section(page, '<table class="grid timeline">',
                                             "</table>")),
        "review checklist and decision": _visible(_section(page, '<h2', "</main>")),
        "desk audit trail": _visible(_section(
            dispatcher.get(f"/dispatch/jobs/{job_id}").get_data(as_text=True),
            'id="trail"', "</section>")),
        "service report PDF": _pdf_text(
            supervisor.get(f"/review/jobs/{job_id}/report.pdf?lang={lang}").data, tmp_path, lang),
    }
    for name, client, url in (("jobs CSV", dispatcher, "/dispatch/jobs.csv"),
                              ("complaints CSV", dispatcher, "/dispatch/complaints.csv"),
                              ("parts log CSV", supervisor, "/review/parts/log.csv")):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        out[name] = response.get_data(as_text=True)
    return out


def test_chinese_readings_hold_no_english(app, api, demo, clock, tmp_path):
    job_id = _history(app, api, demo, clock)
    typed = _typed(app)
    for name, text in _readings(app, job_id, "zh", tmp_path).items():
        left = PEOPLES_CODES.sub(" ", _without(text, typed))
        english = re.findall(r"[A-Za-z][A-Za-z_]+", left)
        assert not english, f"{name} in zh-CN has English: {sorted(set(english))}\n{left[:3000]}"
        assert CJK.search(left), name


def test_english_readings_hold_no_chinese(app, api, demo, clock, tmp_path):
    job_id = _history(app, api, demo, clock)
    typed = _typed(app)
    for name, text in _readings(app, job_id, "en", tmp_path).items():
        left = _without(text, typed)
        chinese = CJK.findall(left)
        assert not chinese, f"{name} in English has Chinese: {''.join(chinese)}\n{left[:3000]}"
        assert re.search(r"[A-Za-z]{4,}", left), name


def test_machine_codes_stay_in_the_api(app, api, demo, clock):
    """The API keeps the codes the contract names: the timeline's words are a rendering."""
    job_id = _history(app, api, demo, clock)
    detail = api.get(f"/api/v1/jobs/{job_id}", as_="supervisor1").get_json()
    types = {event["type"] for event in detail["events"]}
    assert {"created", "answer", "status", "parts_request"} <= types
    assert detail["review"]["decision"] == "approve"


def _complaint_trails(app, api, demo, clock, lang) -> tuple[dict[str, str], list[str]]:
    """The history's complaint taken through a call, escalation, reclassification and
    resolution; its audit trail on the desk and on the review page, read in `lang`."""
    job_id = _history(app, api, demo, clock)
    with app.app_context():
        complaint = db.session.scalars(select(Complaint).where(Complaint.job_id == job_id)).one()
        complaint_id = complaint.id
        supervisor_id = db.session.scalars(select(User.id).where(
            User.username == "supervisor1")).one()
    assert api.post(f"/api/v1/complaints/{complaint_id}/contacts", as_="dispatcher1", json={
        "outcome": "reached", "satisfied": False, "note": "还要再来"}).status_code == 201
    for change in ({"status": "escalated", "supervisor_id": supervisor_id, "note": "请主管来电"},
                   {"severity": "major", "note": "二次上门"},
                   {"status": "in_progress"}, {"note": "已联系厂家"},
                   {"status": "resolved", "result": "已更换抽屉滑轨"}):
        response = api.patch(f"/api/v1/complaints/{complaint_id}", as_="dispatcher1",
                             json=change)
        assert response.status_code == 200, (change, response.get_json())
    code = "zh_CN" if lang == "zh" else "en"
    out = {}
    for login, url in (("dispatcher1", f"/dispatch/complaints/{complaint_id}"),
                       ("supervisor1", f"/review/complaints/{complaint_id}")):
        client, _token = signed_in_client(app, login)
        assert client.get(f"/lang/{code}").status_code == 302
        page = client.get(url).get_data(as_text=True)
        out[url] = _visible(_section(page, '<table class="grid trail">', "</table>"))
    with app.app_context():
        typed = _typed(app) + ["还要再来", "请主管来电", "二次上门", "已联系厂家",
                               "已更换抽屉滑轨"]
    return out, sorted(set(typed), key=len, reverse=True)


def test_complaint_trails_read_in_chinese_hold_no_english(app, api, demo, clock):
    trails, typed = _complaint_trails(app, api, demo, clock, "zh")
    for name, text in trails.items():
        left = PEOPLES_CODES.sub(" ", _without(text, typed))
        english = re.findall(r"[A-Za-z][A-Za-z_]+", left)
        assert not english, f"{name} in zh-CN has English: {sorted(set(english))}\n{left}"
        # One sentence per event, in the reader's words.
        assert "升级至" in text and "顾客不满意" in text and "状态由" in text, text


def test_complaint_trails_read_in_english_hold_no_chinese(app, api, demo, clock):
    trails, typed = _complaint_trails(app, api, demo, clock, "en")
    for name, text in trails.items():
        left = _without(text, typed)
        assert not CJK.findall(left), f"{name} in English has Chinese: {left}"
        assert "Escalated to" in text and "not satisfied" in text, text

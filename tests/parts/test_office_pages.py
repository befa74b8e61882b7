"""The office side of issue 8 on the web: the parts queue and the parts log at /review/parts
(supervisors, admins; CSRF on every form; a refused action stores nothing and says why), the
take-back register at /dispatch/takebacks (overdue highlighted, the follow-up job to
schedule, the papers as PDFs) and the overdue setting (admins)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.helpers import T0
from tests.support.partskit import Phone, events, job_of_type, parts_request, receipt
from tests.support.web_kit import csrf_from


def web_client(app, username):
    client = app.test_client()
    client.get("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": "fieldapp-demo",
                                           "csrf_token": csrf_from(page)})
    assert response.status_code == 302
    return client


@pytest.fixture
def loop(client, demo):
    tech1 = Phone(client, "tech1")
    job = job_of_type(tech1, "repair")
    first = parts_request(tech1, job["id"])
    second = parts_request(tech1, job["id"], kind="supplementary", part_name="螺丝包",
                           reason="包装内缺少螺丝包", cause="missing_in_delivery")
    taken = receipt(tech1, job["id"], receipt_no=f"{job['ref']}-T1")
    tech1.push([tech1.status(job["id"], s) for s in ("en_route", "on_site", "in_progress")]
               + [first, second, taken])
    return {"job": job, "first": first["args"]["request_id"],
            "second": second["args"]["request_id"], "receipt": taken["args"]["receipt_id"],
            "receipt_no": f"{job['ref']}-T1"}


def test_parts_queue_decisions_on_the_web(app, api, loop):
    web = web_client(app, "supervisor1")
    page = web.get("/review/parts").get_data(as_text=True)
    assert "铰链 hinge" in page and "螺丝包" in page and loop["job"]["ref"] in page
    token = csrf_from(page)
    url = f"/review/parts/{loop['first']}/decide"
    # No CSRF token: refused before anything happens.
    assert web.post(url, data={"decision": "approve", "cause": "wear"}).status_code == 400
    # Approving without a cause is refused with a message; nothing stored.
    answer = web.post(url, data={"csrf_token": token, "decision": "approve", "cause": ""},
                      follow_redirects=True).get_data(as_text=True)
    assert "Record the cause before approving" in answer
    assert api.get(f"/api/v1/parts-requests/{loop['first']}", as_="admin").get_json()["status"] \
        == "pending"
    response = web.post(url, data={"csrf_token": token, "decision": "approve",
                                   "cause": "manufacturing_defect", "reason": "质保期内"})
    assert response.status_code == 302
    body = api.get(f"/api/v1/parts-requests/{loop['first']}", as_="admin").get_json()
    assert body["status"] == "approved" and body["cause"] == "manufacturing_defect"
    assert body["decided_by"]
    answer = web.post(f"/review/parts/{loop['second']}/decide",
                      data={"csrf_token": token, "decision": "refuse", "reason": ""},
                      follow_redirects=True).get_data(as_text=True)
    assert "A reason is required" in answer
    web.post(f"/review/parts/{loop['second']}/decide",
             data={"csrf_token": token, "decision": "refuse", "reason": "包装内有备用螺丝"})
    assert "No parts request is waiting" in web.get("/review/parts").get_data(as_text=True)

    # The log: causes counted, the release only on the approved one.
    log = web.get("/review/parts/log").get_data(as_text=True)
    assert "Quality (manufacturing) defect" in log and "Missing in the delivery" in log
    assert "Not released: no approval" in log
    token = csrf_from(log)
    answer = web.post(f"/review/parts/{loop['second']}/release", data={"csrf_token": token},
                      follow_redirects=True).get_data(as_text=True)
    assert "no approval on record" in answer
    web.post(f"/review/parts/{loop['first']}/release", data={"csrf_token": token})
    released = api.get("/api/v1/parts-requests?status=released", as_="admin").get_json()
    assert [p["id"] for p in released["items"]] == [loop["first"]]
    types = [t for t, *_ in events(app, loop["job"]["id"])]
    assert types.count("parts_decision") == 2 and types.count("parts_released") == 1
    csv = web.get("/review/parts/log.csv").get_data(as_text=True)
    # The cause by its name in the reader's language; its code is the API's (issue 17).
    assert "铰链 hinge" in csv and "Quality (manufacturing) defect" in csv
    assert "manufacturing_defect" not in csv


def test_who_may_open_the_office_pages(app, loop):
    assert web_client(app, "tech1").get("/review/parts").status_code == 403
    assert web_client(app, "dispatcher1").get("/review/parts").status_code == 403
    assert web_client(app, "supervisor1").get("/dispatch/takebacks").status_code == 403
    assert web_client(app, "admin").get("/review/parts/log").status_code == 200
    assert app.test_client().get("/dispatch/takebacks").status_code == 302


def test_take_back_register(app, api, clock, loop):
    web = web_client(app, "dispatcher1")
    page = web.get("/dispatch/takebacks").get_data(as_text=True)
    assert loop["receipt_no"] in page and "Schedule the return" in page
    assert 'class="overdue"' not in page
    assert "布艺" in page or loop["job"]["product_model"] in page
    clock.set(T0 + timedelta(days=8))
    page = web.get("/dispatch/takebacks").get_data(as_text=True)
    assert 'class="overdue"' in page and "Overdue" in page
    # The job pages of both faces show the receipt and the requests, with the papers.
    job_page = web.get(f"/dispatch/jobs/{loop['job']['id']}").get_data(as_text=True)
    assert loop["receipt_no"] in job_page and "铰链 hinge" in job_page
    assert f"/dispatch/takebacks/{loop['receipt']}/receipt.pdf" in job_page
    followup = api.get(f"/api/v1/takebacks/{loop['receipt']}", as_="admin").get_json()
    follow_page = web.get(f"/dispatch/jobs/{followup['followup_job_id']}").get_data(as_text=True)
    assert loop["receipt_no"] in follow_page and "Taken on" in follow_page
    review_page = web_client(app, "supervisor1").get(f"/review/jobs/{loop['job']['id']}")
    assert loop["receipt_no"] in review_page.get_data(as_text=True)
    pdf = web.get(f"/dispatch/takebacks/{loop['receipt']}/receipt.pdf?lang=zh")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert web.get(f"/dispatch/takebacks/{loop['receipt']}/nope.pdf").status_code == 404
    # Only an admin moves the overdue limit; the change is on record.
    token = csrf_from(page)
    assert web.post("/dispatch/takebacks/settings",
                    data={"csrf_token": token, "overdue_days": "10"}).status_code == 403
    admin = web_client(app, "admin")
    page = admin.get("/dispatch/takebacks").get_data(as_text=True)
    admin.post("/dispatch/takebacks/settings", data={"csrf_token": csrf_from(page),
                                                     "overdue_days": "10"})
    body = api.get("/api/v1/takebacks", as_="dispatcher1").get_json()
    assert body["overdue_days"] == 10 and body["items"][0]["overdue"] is False
    answer = admin.post("/dispatch/takebacks/settings",
                        data={"csrf_token": csrf_from(page), "overdue_days": "0"},
                        follow_redirects=True).get_data(as_text=True)
    assert "from 1 to 365" in answer
    assert api.get("/api/v1/takebacks", as_="dispatcher1").get_json()["overdue_days"] == 10


def test_a_product_out_too_long_is_flagged_once_to_the_office(app, api, clock, loop):
    """The scheduler's `takeback_overdue` rule: nothing before the register's overdue days,
    one notice to dispatchers and supervisors after, never again; none once it is back."""
    from sqlalchemy import select

    from fieldapp.extensions import db
    from fieldapp.models import Notification
    from fieldapp.scheduler.runner import run_once

    def notices():
        with app.app_context():
            return db.session.execute(select(Notification).where(
                Notification.kind == "takeback_overdue")).scalars().all()

    clock.set(T0 + timedelta(days=7) - timedelta(minutes=1))
    assert run_once(app, only=["takeback_overdue"])["takeback_overdue"] == {"flagged": 0}
    clock.set(T0 + timedelta(days=8))
    assert run_once(app, only=["takeback_overdue"])["takeback_overdue"] == {"flagged": 1}
    rows = notices()
    with app.app_context():
        from fieldapp.models import User

        roles = {db.session.get(User, n.user_id).role for n in rows}
    assert roles == {"dispatcher", "supervisor"}
    assert all(loop["receipt_no"] in n.subject for n in rows)
    clock.set(T0 + timedelta(days=9))
    assert run_once(app, only=["takeback_overdue"])["takeback_overdue"] == {"flagged": 0}
    assert len(notices()) == len(rows)
    inbox = api.get("/api/v1/notifications", as_="supervisor1").get_json()
    assert any(loop["receipt_no"] in n["subject"] for n in inbox["items"])
    assert not any(loop["receipt_no"] in n["subject"] for n in
                   api.get("/api/v1/notifications", as_="tech1").get_json()["items"])


def test_the_kpi_page_shows_parts_by_cause_and_takebacks_by_model(app, api, clock, loop):
    """Outcomes feed the measured records: on /review/kpis, over the chosen days, the
    requests not refused by cause (one replacement, cause still open, and one supplementary
    missing in the delivery) and the take-back by the job's product model, still out."""
    web = web_client(app, "supervisor1")
    page = web.get("/review/kpis").get_data(as_text=True)
    by_cause = page.split('class="grid by-cause"')[1].split("</table>")[0]
    assert by_cause.count("<tr>") == 3  # the heading and two rows
    assert "Missing in the delivery" in by_cause and "Not yet found" in by_cause
    by_model = page.split('class="grid by-model"')[1].split("</table>")[0]
    assert f"<td>{loop['job']['product_model']}</td><td>1</td><td>1</td>" in by_model
    # A refused request drops out; days before the requests show nothing.
    token = csrf_from(web.get("/review/parts").get_data(as_text=True))
    web.post(f"/review/parts/{loop['second']}/decide",
             data={"csrf_token": token, "decision": "refuse", "reason": "包装内有备用螺丝"})
    page = web.get("/review/kpis").get_data(as_text=True)
    by_cause = page.split('class="grid by-cause"')[1].split("</table>")[0]
    assert by_cause.count("<tr>") == 2 and "Missing in the delivery" not in by_cause
    old = web.get("/review/kpis?from=2020-01-01&to=2020-01-31").get_data(as_text=True)
    assert "No parts requested in this period." in old and "No take-backs in this period." in old

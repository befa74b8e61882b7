"""The contract: GET /api/v1/return-visits?job_id=&status= and
POST /api/v1/return-visits/<id>/result; roles; bad input stores nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.visitkit import due_visit


def test_list_answers_the_contract_fields(app, api, demo, clock):
    visit = due_visit(app, api, demo, clock)
    body = api.get("/api/v1/return-visits", as_="dispatcher1").get_json()
    [item] = body["items"]
    assert item["id"] == visit["id"]
    assert item["status"] == "due" and item["score"] is None
    assert item["due_at"].endswith("Z") and item["overdue"] is False
    assert item["survey_url"].startswith("http://127.0.0.1:5000/survey/")
    token = item["survey_url"].rsplit("/", 1)[1]
    assert len(token) >= 40
    # Filters.
    assert api.get(f"/api/v1/return-visits?job_id={visit['job_id']}",
                   as_="dispatcher1").get_json()["items"][0]["id"] == visit["id"]
    assert api.get("/api/v1/return-visits?job_id=00000000-0000-0000-0000-000000000000",
                   as_="dispatcher1").get_json()["items"] == []
    assert api.get("/api/v1/return-visits?status=done",
                   as_="dispatcher1").get_json()["items"] == []
    assert len(api.get("/api/v1/return-visits?status=due",
                       as_="dispatcher1").get_json()["items"]) == 1
    bad = api.get("/api/v1/return-visits?status=maybe", as_="dispatcher1")
    assert bad.status_code == 422 and bad.get_json()["error"] == "validation_error"
    # Two days after due it is overdue.
    clock.advance(timedelta(days=2, seconds=1))
    assert api.get("/api/v1/return-visits", as_="dispatcher1").get_json()[
        "items"][0]["overdue"] is True


def test_the_token_is_stored_only_hashed(app, api, demo, clock):
    from sqlalchemy import select

    from fieldapp.extensions import db
    from fieldapp.models import ReturnVisit

    visit = due_visit(app, api, demo, clock)
    token = visit["survey_url"].rsplit("/", 1)[1]
    with app.app_context():
        row = db.session.execute(select(ReturnVisit)).scalar_one()
        stored = " ".join(str(getattr(row, c.key)) for c in ReturnVisit.__table__.columns)
        assert token not in stored
        import hashlib

        assert row.survey_token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_public_base_url_is_the_links_start(app, api, demo, clock):
    app.config["PUBLIC_BASE_URL"] = "https://service.example.cn/"
    visit = due_visit(app, api, demo, clock)
    assert visit["survey_url"].startswith("https://service.example.cn/survey/")


@pytest.mark.parametrize("who, status", [("dispatcher1", 200), ("supervisor1", 200),
                                         ("admin", 200), ("tech1", 403)])
def test_roles(app, api, demo, clock, who, status):
    visit = due_visit(app, api, demo, clock)
    assert api.get("/api/v1/return-visits", as_=who).status_code == status
    post = api.post(f"/api/v1/return-visits/{visit['id']}/result", as_=who,
                    json={"score": 5})
    assert post.status_code == status
    if status == 403:
        assert post.get_json()["error"] == "forbidden"
        again = api.get("/api/v1/return-visits", as_="dispatcher1").get_json()["items"][0]
        assert again["status"] == "due"


def test_without_a_token_401(client):
    assert client.get("/api/v1/return-visits").status_code == 401
    assert client.post("/api/v1/return-visits/1/result", json={"score": 5}).status_code == 401


@pytest.mark.parametrize("body", [{"score": 0}, {"score": 6}, {"score": "5"}, {"score": 4.5},
                                  {}, {"score": 5, "comment": "x" * 2001},
                                  {"score": 5, "extra": 1}])
def test_bad_results_are_refused_and_store_nothing(app, api, demo, clock, body):
    visit = due_visit(app, api, demo, clock)
    response = api.post(f"/api/v1/return-visits/{visit['id']}/result", as_="dispatcher1",
                        json=body)
    assert response.status_code == 422
    answer = response.get_json()
    assert answer["error"] == "validation_error" and answer["message"]
    again = api.get("/api/v1/return-visits", as_="dispatcher1").get_json()["items"][0]
    assert again["status"] == "due" and again["score"] is None


def test_unknown_visit_404(app, api, demo):
    response = api.post("/api/v1/return-visits/999/result", as_="dispatcher1",
                        json={"score": 5})
    assert response.status_code == 404
    assert response.get_json()["error"] == "return_visit_not_found"


def test_the_answer_shows_its_follow_ups_and_the_link_is_gone(app, api, demo, clock):
    visit = due_visit(app, api, demo, clock)
    response = api.post(f"/api/v1/return-visits/{visit['id']}/result", as_="supervisor1",
                        json={"score": 1, "comment": "态度差", "issues": "柜门关不上"})
    body = response.get_json()
    assert response.status_code == 200
    assert body["complaint_ref"].startswith("TS") and body["followup_job_ref"].startswith("FA")
    assert body["survey_url"] is None and body["answered_at"].endswith("Z")
    job = api.get(f"/api/v1/jobs/{body['followup_job_id']}", as_="dispatcher1").get_json()
    assert job["type"] == "repair" and job["status"] == "new"
    complaint = api.get(f"/api/v1/complaints/{body['complaint_id']}",
                        as_="dispatcher1").get_json()
    assert complaint["severity"] == "general" and complaint["status"] == "open"
    assert [j["id"] for j in complaint["jobs"]] == [body["followup_job_id"]]


def test_openapi_documents_the_endpoints(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/return-visits" in spec["paths"]
    assert "/api/v1/return-visits/{visit_id}/result" in spec["paths"]


def test_resend_makes_a_new_link_once_answered_refused(app, api, demo, clock, client):
    visit = due_visit(app, api, demo, clock)
    url = f"/api/v1/return-visits/{visit['id']}/resend"
    assert api.post(url, as_="tech1").status_code == 403
    assert api.post("/api/v1/return-visits/999999/resend", as_="dispatcher1").status_code == 404
    response = api.post(url, as_="dispatcher1")
    assert response.status_code == 200, response.get_json()
    fresh = response.get_json()
    assert fresh["survey_url"] and fresh["survey_url"] != visit["survey_url"]
    old_path = "/survey/" + visit["survey_url"].rsplit("/", 1)[1]
    assert client.get(old_path).status_code == 404
    api.post(f"/api/v1/return-visits/{visit['id']}/result", as_="dispatcher1",
             json={"score": 5})
    again = api.post(url, as_="dispatcher1")
    assert again.status_code == 409 and again.get_json()["error"] == "return_visit_answered"

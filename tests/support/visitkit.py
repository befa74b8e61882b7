"""Helpers for the return-visit tests (tests/visits): approve a demo job through the real API,
run the scheduler's `create_due` at the injected clock, sign in to the desk."""
from __future__ import annotations

from datetime import timedelta

from tests.support.review_kit import approved_job, tech_jobs  # noqa: F401

# Approving a demo job is the sign-off tests' helper.
approve = approved_job


def run_create_due(app):
    """What the scheduler does: create_due in its own transaction, committed."""
    from fieldapp.extensions import db
    from fieldapp.visits import service as return_visits
    from fieldapp.web import domain_ctx

    with app.test_request_context():
        visits = return_visits.create_due(domain_ctx())
        db.session.commit()
        return [v.id for v in visits]


def due_visit(app, api, demo, clock, kind="repair", tech="tech1", seed=0) -> dict:
    """An approved job with its return visit created (clock moved 3 days on); the visit as
    the API answers it."""
    job = approve(api, demo, kind, tech, seed)
    clock.advance(timedelta(days=3))
    ids = run_create_due(app)
    assert len(ids) >= 1
    items = api.get(f"/api/v1/return-visits?job_id={job['id']}", as_="dispatcher1").get_json()
    assert len(items["items"]) == 1, items
    return items["items"][0]


def token_of(visit: dict) -> str:
    return visit["survey_url"].rsplit("/", 1)[1]

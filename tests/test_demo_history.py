"""`flask seed-demo --history`: a few past days of work through the real API and sync, so a
fresh `make run` has something on every office screen, each item where a user would look."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.test_cli import first_start, run


def _count(app, model, *where):
    from fieldapp.extensions import db

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)
                                  ).scalar_one()


def test_history_fills_every_office_screen(app, api, clock):
    from fieldapp.models import Complaint, Device, Job, ReturnVisit, Seal, Takeback

    result = run(app, "seed-demo", "--history")
    assert result.exit_code == 0, result.output
    assert "past work loaded" in result.output
    now = clock.now()

    # The review queue: yesterday's delivery, completed, with its parts request waiting.
    completed = api.get("/api/v1/jobs?status=completed", as_="supervisor1").get_json()["items"]
    assert [j["product_model"] for j in completed] == ["书桌 DK-120"]
    pending = api.get("/api/v1/parts-requests?status=pending",
                      as_="supervisor1").get_json()["items"]
    assert [p["part_name"] for p in pending] == ["螺丝包 M6"]
    # Three jobs signed off and sealed, in the past, and the chain verifies.
    approved = api.get("/api/v1/jobs?status=approved", as_="supervisor1").get_json()["items"]
    assert len(approved) == 3 and _count(app, Seal) == 3
    verify = run(app, "verify")
    assert verify.exit_code == 0, verify.output
    # Return visits: two to call (the take-back's is overdue), one answered 2/5 with its
    # follow-ups.
    due = api.get("/api/v1/return-visits?status=due", as_="dispatcher1").get_json()["items"]
    assert sorted(v["overdue"] for v in due) == [False, True]
    assert all(v["survey_url"] for v in due)
    [low] = api.get("/api/v1/return-visits?status=done", as_="dispatcher1").get_json()["items"]
    assert low["score"] == 2 and low["complaint_id"] and low["followup_job_id"]
    assert _count(app, Complaint) == 1
    followup = api.get(f"/api/v1/jobs/{low['followup_job_id']}", as_="dispatcher1").get_json()
    assert followup["priority"] == "urgent" and followup["status"] == "new"
    # A product out for repair longer than the register allows, with its follow-up job.
    [out] = api.get("/api/v1/takebacks?status=out", as_="dispatcher1").get_json()["items"]
    assert out["overdue"] is True and out["followup_job_id"]
    assert _count(app, Takeback) == 1
    # Everything happened in the past, through the sync engine's phones, now signed out.
    with app.app_context():
        from fieldapp.extensions import db

        oldest = db.session.execute(select(func.min(Job.created_at))).scalar_one()
        assert oldest.replace(tzinfo=None) <= (now - timedelta(days=9)).replace(tzinfo=None)
        devices = db.session.execute(select(Device).where(Device.name == "demo history")
                                     ).scalars().all()
        assert devices and all(d.revoked_at is not None for d in devices)
    assert _count(app, ReturnVisit) == 3
    # Today's demo work is still as the contract promises.
    today = api.get("/api/v1/jobs?status=scheduled", as_="dispatcher1").get_json()["items"]
    assert len(today) == 6


def test_history_is_refused_in_production(app):
    app.config["FIELDAPP_ENV"] = "production"
    result = run(app, "seed-demo", "--history")
    assert result.exit_code != 0 and "never loaded in production" in result.output


@pytest.mark.parametrize("setting, seals", [("1", 3), ("0", 0)])
def test_the_first_start_brings_the_past_unless_turned_off(monkeypatch, app, db_url, tmp_path,
                                                          clock, setting, seals):
    from fieldapp.models import Seal, User

    monkeypatch.setenv("FIELDAPP_DEMO_HISTORY", setting)
    assert len(first_start(monkeypatch, app, db_url, tmp_path, clock, "development")) == 5
    assert _count(app, User) == 5 and _count(app, Seal) == seals

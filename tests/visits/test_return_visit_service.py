"""Return visits (回访): created once, at the right moment (injected clock), never again; the
follow-up rule; exactly one answer. Real SQLite / PostgreSQL through the real API."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.support.database import PG_URL
from tests.support.helpers import complete_job
from tests.support.visitkit import approve, due_visit, run_create_due, tech_jobs


def _visits(app, job_id=None):
    from fieldapp.extensions import db
    from fieldapp.models import ReturnVisit

    with app.app_context():
        stmt = select(ReturnVisit)
        if job_id:
            stmt = stmt.where(ReturnVisit.job_id == job_id)
        rows = db.session.execute(stmt).scalars().all()
        db.session.expunge_all()
        return rows


def _count(app, model, *where):
    from fieldapp.extensions import db

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(*where)
                                  ).scalar_one()


def test_created_once_at_the_right_moment_and_never_again(app, api, demo, clock):
    from fieldapp.models import Delivery, JobEvent

    job = approve(api, demo)
    approved_at = clock.now()
    # Not a second early.
    clock.set(approved_at + timedelta(days=3) - timedelta(seconds=1))
    assert run_create_due(app) == []
    assert _visits(app) == []
    # At the moment: exactly one, due at approval + 3 days.
    clock.set(approved_at + timedelta(days=3))
    created = run_create_due(app)
    assert len(created) == 1
    [visit] = _visits(app)
    assert visit.job_id == job["id"] and visit.status == "due" and visit.score is None
    assert visit.due_at == approved_at + timedelta(days=3)
    assert visit.technician_id == demo["tech1"]
    # The survey link went to the customer once, through the outbox.
    assert _count(app, Delivery, Delivery.kind == "return_visit_survey") == 1
    assert _count(app, JobEvent, JobEvent.job_id == job["id"],
                  JobEvent.type == "return_visit_created") == 1
    # Never again: the next runs, the same minute and weeks later, make nothing.
    assert run_create_due(app) == []
    clock.advance(timedelta(days=20))
    assert run_create_due(app) == []
    assert len(_visits(app)) == 1
    assert _count(app, Delivery, Delivery.kind == "return_visit_survey") == 1


def test_the_number_of_days_is_a_setting(app, api, demo, clock):
    from fieldapp.accounts.context import Actor
    from fieldapp.extensions import db
    from fieldapp.models import SettingChange, User
    from fieldapp.settings import service as settings_service
    from fieldapp.web import domain_ctx

    with app.test_request_context():
        admin = db.session.get(User, demo["admin"])
        settings_service.save(domain_ctx(), Actor(admin),
                              settings_service.policy_to_dict(domain_ctx().policy),
                              {"return_visit_days": 5})
        db.session.commit()
    assert _count(app, SettingChange, SettingChange.key == "desk") == 1
    approve(api, demo)
    approved_at = clock.now()
    clock.set(approved_at + timedelta(days=3))
    assert run_create_due(app) == []
    clock.set(approved_at + timedelta(days=5))
    assert len(run_create_due(app)) == 1


@pytest.mark.parametrize("days", [0, 61, "3", True])
def test_a_bad_number_of_days_is_refused(app, demo, days):
    from fieldapp.core.errors import DomainError
    from fieldapp.settings import service as settings_service

    with pytest.raises(DomainError) as refused:
        settings_service.desk_from_dict({"return_visit_days": days})
    assert refused.value.details["field"] == "return_visit_days"


def test_the_database_refuses_a_second_visit_for_the_same_job(app, api, demo, clock):
    """Two schedulers racing: the unique job_id makes the second insert fail, whatever the
    process; create_due skips it in a savepoint."""
    from fieldapp.extensions import db
    from fieldapp.models import ReturnVisit

    visit = due_visit(app, api, demo, clock)
    with app.app_context():
        db.session.add(ReturnVisit(job_id=visit["job_id"], due_at=clock.now(), status="due",
                                   created_at=clock.now()))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    assert len(_visits(app)) == 1


def test_a_racing_scheduler_skips_the_visit_the_other_one_made(app, api, demo, clock,
                                                             monkeypatch):
    """The other process inserted between our select and our insert: we skip it, make the
    rest, and send no second survey."""
    from fieldapp.extensions import db
    from fieldapp.models import Delivery, ReturnVisit
    from fieldapp.visits import service as return_visits

    job = approve(api, demo)
    clock.advance(timedelta(days=3))
    real_begin_nested = db.session.begin_nested
    state = {"done": False}

    def racing_begin_nested(*args, **kwargs):
        if not state["done"]:
            state["done"] = True
            row = ReturnVisit.__table__.insert().values(
                job_id=job["id"], due_at=clock.now(), status="due", created_at=clock.now())
            if PG_URL:  # another process: its own connection, committed first
                from sqlalchemy import create_engine

                engine = create_engine(PG_URL)
                with engine.begin() as conn:
                    conn.execute(row)
                engine.dispose()
            else:  # SQLite has one writer at a time: the row lands in our transaction
                db.session.connection().execute(row)
        return real_begin_nested(*args, **kwargs)

    with app.test_request_context():
        from fieldapp.web import domain_ctx

        monkeypatch.setattr(db.session, "begin_nested", racing_begin_nested)
        made = return_visits.create_due(domain_ctx())
        monkeypatch.undo()
        db.session.commit()
    assert made == []
    assert len(_visits(app, job["id"])) == 1
    assert _count(app, Delivery, Delivery.kind == "return_visit_survey") == 0


def test_long_approved_jobs_get_no_visit(app, api, demo, clock):
    approve(api, demo)
    clock.advance(timedelta(days=3 + 31))
    assert run_create_due(app) == []


def test_only_approved_jobs_get_a_visit(app, api, demo, clock):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])   # completed, not yet approved
    clock.advance(timedelta(days=10))
    assert run_create_due(app) == []


@pytest.mark.parametrize("score, issues, complaint, followup", [
    (5, None, False, False),
    (4, "", False, False),
    (3, None, True, False),        # 3 of 5 is "not satisfied": a complaint
    (1, None, True, False),
    (5, "抽屉还是卡", False, True),  # satisfied, but something is still wrong
    (2, "门板仍有划痕", True, True),
])
def test_the_follow_up_rule(app, api, demo, clock, score, issues, complaint, followup):
    from fieldapp.extensions import db
    from fieldapp.models import Complaint, ComplaintJob, Job, JobEvent, Notification, ReturnVisit

    visit = due_visit(app, api, demo, clock)
    response = api.post(f"/api/v1/return-visits/{visit['id']}/result", as_="dispatcher1",
                        json={"score": score, "comment": "客户反馈", "issues": issues})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "done" and body["score"] == score and body["channel"] == "phone"
    assert (body["complaint_id"] is not None) == complaint
    assert (body["followup_job_id"] is not None) == followup
    with app.app_context():
        row = db.session.get(ReturnVisit, visit["id"])
        job = db.session.get(Job, visit["job_id"])
        assert row.recorded_by_id == demo["dispatcher1"]
        if complaint:
            c = db.session.get(Complaint, body["complaint_id"])
            assert c.severity == "general" and c.about == "technician"
            assert c.about_technician_id == demo["tech1"] and c.job_id == job.id
            assert c.customer_id == job.customer_id and str(score) in c.content
        if followup:
            f = db.session.get(Job, body["followup_job_id"])
            assert f.type == "repair" and f.customer_id == job.customer_id
            assert f.product_model == job.product_model and issues in f.problem
            assert f.priority == "urgent" and f.status == "new"
            assert db.session.execute(select(JobEvent).where(
                JobEvent.job_id == f.id, JobEvent.type == "from_return_visit")).scalar_one()
            linked = db.session.execute(select(ComplaintJob).where(
                ComplaintJob.job_id == f.id)).scalar_one_or_none()
            assert (linked is not None) == complaint
        notes = db.session.execute(select(Notification).where(
            Notification.kind == "return_visit_follow_up")).scalars().all()
        if complaint or followup:
            assert demo["dispatcher1"] in {n.user_id for n in notes}
            assert all(n.user_id != demo["tech1"] for n in notes)
        else:
            assert notes == []
        answered = db.session.execute(select(JobEvent).where(
            JobEvent.job_id == job.id, JobEvent.type == "return_visit_answered")).scalar_one()
        assert answered.actor_id == demo["dispatcher1"] and answered.data["score"] == score


def test_a_second_answer_is_refused_and_stores_nothing(app, api, demo, clock):
    from fieldapp.models import Complaint, Job

    visit = due_visit(app, api, demo, clock)
    url = f"/api/v1/return-visits/{visit['id']}/result"
    first = api.post(url, as_="dispatcher1", json={"score": 2, "comment": "first"})
    assert first.status_code == 200
    jobs_before = _count(app, Job)
    clock.advance(timedelta(minutes=5))
    again = api.post(url, as_="admin", json={"score": 5, "comment": "second", "issues": "x"})
    assert again.status_code == 409
    assert again.get_json()["error"] == "return_visit_answered"
    assert again.get_json()["message"] == "该回访已有答复，以第一次答复为准，本次未作任何更改。"
    [row] = _visits(app)
    assert row.score == 2 and row.comment == "first" and row.recorded_by_id == demo["dispatcher1"]
    assert _count(app, Complaint) == 1 and _count(app, Job) == jobs_before


def test_the_scheduler_runs_it_once_and_the_outbox_carries_the_link(app, api, demo, clock):
    from fieldapp.models import Delivery
    from fieldapp.scheduler.runner import run_once

    job = approve(api, demo)
    clock.advance(timedelta(days=3))
    first = run_once(app, only=["return_visits", "deliveries"])
    assert first["return_visits"] == {"created": 1}
    second = run_once(app, only=["return_visits"])
    assert second["return_visits"] == {"created": 0}
    [visit] = _visits(app, job["id"])
    from fieldapp.extensions import db

    with app.app_context():
        [sms] = db.session.execute(select(Delivery).where(
            Delivery.kind == "return_visit_survey")).scalars().all()
        assert sms.channel == "webhook" and sms.status in ("logged", "sent")
        assert "/survey/" in sms.payload["text"] and sms.job_id == job["id"]
        assert visit.survey_token_hash not in sms.payload["text"]

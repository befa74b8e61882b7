"""Two `flask --app app scheduler run-once --now ...` processes started at the same moment
against the same database never double a notification, a rule firing, a delivery or a return
visit. On PostgreSQL (FIELDAPP_TEST_DATABASE_URL) in a fresh database made and dropped here;
on SQLite against one database file."""
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from fieldapp.core.clock import FixedClock
from tests.support.database import fresh_database_url
from tests.support.helpers import ROOT, T0, app_config


@pytest.fixture
def fresh_db_url(tmp_path):
    with fresh_database_url(tmp_path, "sched") as url:
        yield url


def _prepare(url, tmp_path):
    """The demo data at T0; two jobs approved four days before the run (return visits due),
    a major complaint never escalated, a job for tomorrow."""
    from fieldapp import create_app
    from fieldapp.accounts.context import Actor, Ctx
    from fieldapp.cli import install_fixed_rows
    from fieldapp.complaints import service as complaints
    from fieldapp.extensions import db
    from fieldapp.models import Base, Complaint, Job, User
    from fieldapp.seed import seed_demo

    clock = FixedClock(T0)
    app = create_app(app_config(url, str(tmp_path / "blobs"), clock))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        install_fixed_rows()
        seed_demo(db.session, clock)
        jobs = db.session.query(Job).order_by(Job.ref).all()
        for job in jobs[:2]:
            job.status, job.approved_at = "approved", T0
            job.customer.email = f"{job.ref.lower()}@example.com"
        dispatcher = db.session.query(User).filter_by(username="dispatcher1").one()
        complaints.intake(Ctx(session=db.session, clock=clock), Actor(user=dispatcher), {
            "about": "service", "severity": "major", "content": "没人来",
            "customer": {"name": "郑女士", "phone": "13912340005"}})
        db.session.commit()
        approved = [j.id for j in jobs[:2]]
        assert db.session.query(Complaint).count() == 1
        db.engine.dispose()
    return app, approved


def _run_two_at_once(url, tmp_path, now):
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="x", FIELDAPP_SCHEDULER="0",
               FIELDAPP_BLOB_DIR=str(tmp_path / "blobs"), FIELDAPP_ENV="development",
               PYTHONPATH=ROOT)
    env.pop("FIELDAPP_WEBHOOK_URL", None)
    env.pop("MAIL_SERVER", None)
    command = [sys.executable, "-m", "flask", "--app", "app", "scheduler", "run-once",
               "--now", now]
    processes = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=180) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, (out, err[-3000:])
    return [out for out, _ in outputs]


def test_two_schedulers_at_once_never_double_anything(fresh_db_url, tmp_path):
    from fieldapp.extensions import db
    from fieldapp.models import Delivery, Notification, ReturnVisit, RuleFiring, User

    app, approved = _prepare(fresh_db_url, tmp_path)
    # 18:00 in Shanghai four days on: first contacts, the complaint's hour and resolutions
    # are all late, both return visits are due, and the outbox has their survey messages.
    for now in (T0 + timedelta(days=4, hours=9), T0 + timedelta(days=4, hours=9, minutes=1)):
        _run_two_at_once(fresh_db_url, tmp_path, now.isoformat())
    with app.app_context():
        visits = db.session.query(ReturnVisit).all()
        assert sorted(v.job_id for v in visits) == sorted(approved)
        firings = db.session.query(RuleFiring.rule, RuleFiring.key).all()
        assert len(firings) == len(set(firings))
        by_rule = {}
        for rule, _ in firings:
            by_rule[rule] = by_rule.get(rule, 0) + 1
        # The demo's two unassigned jobs, once each (its scheduled visits had their call).
        assert by_rule["sla_first_contact"] == 2
        assert by_rule["complaint_not_escalated"] == 1
        pairs = db.session.query(Notification.user_id, Notification.key).all()
        assert len(pairs) == len(set(pairs))
        roles = dict(db.session.query(User.id, User.role).all())
        # Breaches: one notice per kind and run, to each of its roles' users (all broke
        # before the first run); reminders and silent devices: one per subject.
        grouped = {"sla_first_contact": 1, "complaint_not_escalated": 1, "sla_resolution": 2}
        expected = sum(grouped[rule] for rule in by_rule if rule in grouped)
        for rule, _ in firings:
            if rule not in grouped:
                expected += {"job_reminder": 1, "device_stale": 1}[rule]
        made_by_rules = [p for p in pairs if p[1].split(":", 1)[0] in by_rule]
        assert len(made_by_rules) == expected
        assert {roles[u] for u, k in made_by_rules if k.startswith("sla_first_contact")} == \
            {"dispatcher"}
        deliveries = db.session.query(Delivery).all()
        # Each survey: an SMS to the phone and an e-mail; each sent (logged) exactly once.
        assert len(deliveries) == 4
        assert len({d.key for d in deliveries}) == 4
        assert all(d.status == "logged" and d.attempts == 1 for d in deliveries), \
            [(d.key, d.status, d.attempts, d.last_error) for d in deliveries]
        db.engine.dispose()

"""Migration c4e1a9d27b53 (issue 17) stops the clocks nobody can act on that the old code left
running, on SQLite and PostgreSQL: the demo is built at the revision before, its clocks put
back the way the old code kept them, then upgraded and read back."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, text, update

from fieldapp import create_app
from fieldapp.core.clock import FixedClock
from tests.support.helpers import T0
from tests.test_migrations import empty_db_url  # noqa: F401  (fixture)

BEFORE = "c4d2e8a61f37"  # the pull index (after the desk search index), the revision before


def test_running_clocks_nobody_can_act_on_are_stopped(empty_db_url, tmp_path):  # noqa: F811
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_db_url, "TESTING": True,
                      "BLOB_ROOT": str(tmp_path / "blobs"), "SECRET_KEY": "x"})
    with app.app_context():
        from fieldapp.extensions import db
        from fieldapp.models import Job, SlaClock
        from fieldapp.seed import seed_demo

        upgrade(revision=BEFORE)
        seed_demo(db.session, FixedClock(T0))
        session = db.session
        # The old code: no call on record, every clock running until approval or cancel.
        session.execute(update(SlaClock).values(stopped_at=None))
        session.execute(update(SlaClock).where(SlaClock.name == "first_contact")
                        .values(met_at=None))
        jobs = session.execute(select(Job).order_by(Job.ref)).scalars().all()
        done = jobs[0]
        done.status, done.completed_at = "completed", T0 + timedelta(hours=3)
        session.commit()
        waiting = [j.id for j in jobs if j.status == "new"]
        assert len(waiting) == 2 and done.technician_id is not None
        session.remove()

        upgrade()
        rows = db.session.execute(text(
            "SELECT job_id, name, stopped_at FROM sla_clocks WHERE job_id IS NOT NULL")).all()
        stopped = {(job_id, name): at for job_id, name, at in rows}
        for job in jobs:
            first = stopped[(job.id, "first_contact")]
            if job.id in waiting:
                assert first is None  # still waiting for its call: an alarm to come
            else:
                assert first is not None  # a visit agreed: history
        # The completed job: every unmet clock stopped at its completion.
        assert stopped[(done.id, "resolution")] is not None
        assert str(stopped[(done.id, "resolution")])[:16] == \
            str((T0 + timedelta(hours=3)).replace(tzinfo=None))[:16]
        # The others' response (met at assignment) and resolution keep running.
        assert all(stopped[(j.id, "resolution")] is None for j in jobs if j.id != done.id)
        db.session.remove()
        db.engine.dispose()

"""The status moves that follow from (un)assigning a technician go through the state
machine's table (rows requiring `assignment`, fieldapp/core/states.py) and the one
transition function, recorded in the assignment's event; no one can ask for them by name."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fieldapp.accounts.context import Actor
from fieldapp.accounts.models import User
from fieldapp.core import states
from fieldapp.core.errors import DomainError
from fieldapp.extensions import db
from fieldapp.jobs import service as job_service
from fieldapp.jobs.models import JobEvent
from fieldapp.web import domain_ctx


def _events(job) -> list[tuple[str, dict]]:
    return [(e.type, e.data) for e in db.session.scalars(
        select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id))]


def test_assigning_and_unassigning_move_the_status_through_the_table(app, demo, clock):
    with app.test_request_context("/"):
        ctx = domain_ctx()
        dispatcher = Actor(user=db.session.get(User, demo["dispatcher1"]))
        job = job_service.intake(ctx, dispatcher, {
            "type": "repair", "customer": {"name": "陈女士", "phone": "139-1234-9001",
                                           "address": "上海"},
            "product_model": "SF-3S", "problem": "扶手松动", "channel": "phone"})
        assert job.status == states.INITIAL
        # Asking for `scheduled` by name is refused: scheduling is assigning.
        with pytest.raises(DomainError) as refused:
            job_service.transition(ctx, dispatcher, job, states.SCHEDULED)
        assert refused.value.code == "status_not_patchable" and job.status == states.NEW
        # And a move that is no assignment is never made as one.
        with pytest.raises(DomainError):
            job_service.transition(ctx, dispatcher, job, states.CANCELLED, assignment=True)
        assert job.status == states.NEW

        start = clock.now() + timedelta(hours=2)
        job_service.update_job(ctx, dispatcher, job, {
            "technician_id": demo["tech1"], "scheduled_start": start,
            "scheduled_end": start + timedelta(hours=1)})
        assert job.status == states.SCHEDULED
        job_service.update_job(ctx, dispatcher, job, {"technician_id": None})
        assert job.status == states.NEW
        db.session.flush()
        moves = [(kind, data["status_from"], data["status_to"]) for kind, data in _events(job)
                 if kind in ("assigned", "unassigned")]
        assert moves == [("assigned", "new", "scheduled"), ("unassigned", "scheduled", "new")]
        # The assignment's event is the move's audit: no second "status" event for it.
        assert [kind for kind, _ in _events(job)].count("status") == 0
        db.session.rollback()

"""Migration 3f9c2a7d51e0 (issue 14) repairs values stored before pushes refused them, on
SQLite and PostgreSQL: the database is built at the revision before, filled the way the old
code filled it (raw SQL, as the strict serializer would refuse these values now), upgraded,
and read back."""
from __future__ import annotations

import json

from sqlalchemy import select, text

from fieldapp import create_app
from fieldapp.core.clock import FixedClock
from tests.support.helpers import T0
from tests.test_migrations import empty_db_url  # noqa: F401  (fixture)

BEFORE = "b16c0a7e2d41"  # the revision before 3f9c2a7d51e0
NAIVE_T0 = T0.replace(tzinfo=None)


def hostile_values(dialect: str) -> list[str]:
    """Stored JSON texts the old code could write on this database (PostgreSQL's json type
    never took NaN: a push holding one failed there)."""
    values = ['"nul \\u0000 inside"', '"half \\ud83d"', '{"deep": ["\\udc00"]}']
    if dialect == "sqlite":
        values += ["NaN", "Infinity", '{"n": -Infinity}']
    return values


def refuse(constant):
    raise ValueError(f"{constant} is not JSON")


def insert(session, table: str, row: dict) -> None:
    """One row by raw SQL; JSON values given as their stored text."""
    pg = session.get_bind().dialect.name == "postgresql"
    json_columns = {"value", "details", "args", "items", "data", "record"}
    names = ", ".join(row)
    params = ", ".join(f"CAST(:{k} AS JSON)" if pg and k in json_columns else f":{k}"
                       for k in row)
    session.execute(text(f"INSERT INTO {table} ({names}) VALUES ({params})"), row)


def test_hostile_values_are_repaired(empty_db_url, tmp_path):  # noqa: F811
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_db_url, "TESTING": True,
                      "BLOB_ROOT": str(tmp_path / "blobs"), "SECRET_KEY": "x"})
    with app.app_context():
        from fieldapp.extensions import db
        from fieldapp.jobs.views import job_detail
        from fieldapp.models import ChecklistAnswer, Job, JobEvent, User
        from fieldapp.seed import seed_demo

        upgrade(revision=BEFORE)
        seed_demo(db.session, FixedClock(T0))
        db.session.commit()
        session = db.session
        dialect = session.get_bind().dialect.name
        tech = session.execute(select(User).where(User.username == "tech1")).scalar_one()
        open_job, sealed_job = session.execute(
            select(Job).where(Job.technician_id == tech.id).order_by(Job.ref).limit(2)
        ).scalars().all()
        open_seq = open_job.change_seq
        bad = hostile_values(dialect)
        answer = {"answered_by_id": tech.id, "answered_at": NAIVE_T0}
        for n, raw in enumerate(bad):
            insert(session, "checklist_answers", {"job_id": open_job.id, "item_key": f"bad{n}",
                                                  "value": raw, **answer})
            insert(session, "checklist_answers", {"job_id": sealed_job.id,
                                                  "item_key": f"bad{n}", "value": raw,
                                                  **answer})
            insert(session, "job_events", {"job_id": open_job.id, "type": "answer",
                                           "data": f'{{"item_key": "bad{n}", "value": {raw}}}',
                                           "server_at": NAIVE_T0})
        insert(session, "checklist_answers", {"job_id": open_job.id, "item_key": "fine",
                                              "value": '"all good"', **answer})
        insert(session, "seals", {"job_id": sealed_job.id, "job_ref": sealed_job.ref,
                                  "seq": 1, "digest": "0" * 64, "previous_digest": "0" * 64,
                                  "version": 1, "last_event_id": 1, "record": "{}",
                                  "sealed_at": NAIVE_T0, "sealed_by_id": tech.id})
        device_id = "7d0c8a59-5f4c-4e39-9d57-3a1b2c3d4e5f"
        insert(session, "devices", {"id": device_id, "user_id": tech.id, "name": "old phone",
                                    "token_hash": "f" * 64, "last_seq": 1,
                                    "created_at": NAIVE_T0})
        insert(session, "mutations", {
            "device_id": device_id, "seq": 1, "mutation_id": "invalid:1", "type": "job.note",
            "status": "rejected", "reason": "bad_at", "details": f'{{"at": {bad[-1]}}}',
            "processed_at": NAIVE_T0})
        insert(session, "conflicts", {
            "job_id": open_job.id, "user_id": tech.id, "device_id": device_id,
            "mutation_id": "c0ffee00-0000-4000-8000-000000000000",
            "mutation_type": "checklist.answer", "args": f'{{"value": {bad[0]}}}',
            "reason": "reassigned", "created_at": NAIVE_T0})
        insert(session, "blobs", {"sha256": "a" * 64, "size": 10, "content_type": "image/png",
                                  "created_at": NAIVE_T0, "uploaded_by_id": tech.id})
        session.commit()

        upgrade()

        def answers(job):
            return {a.item_key: a.value for a in session.execute(
                select(ChecklistAnswer).where(ChecklistAnswer.job_id == job.id)).scalars()}

        # The open job: hostile answers gone, the good one kept, each removal on the record.
        assert answers(open_job) == {"fine": "all good"}
        removed = session.execute(select(JobEvent).where(
            JobEvent.job_id == open_job.id, JobEvent.type == "answer_removed")).scalars().all()
        assert sorted(e.data["item_key"] for e in removed) == [f"bad{n}" for n in
                                                              range(len(bad))]
        assert {e.data["problem"] for e in removed} >= {"nul_byte", "lone_surrogate"}
        # Marked changed, so phones pull the repair. On PostgreSQL the demo was seeded by
        # today's code (numbers from transaction ids) under this older schema, whose migration
        # still counts on the change counter: there the number can only be said to move.
        new_seq = session.get(Job, open_job.id).change_seq
        assert new_seq != open_seq if dialect == "postgresql" else new_seq > open_seq
        # The sealed job keeps what its seal proves.
        assert len(answers(sealed_job)) == len(bad)

        # What is left anywhere is JSON the app writes, and a phone reads.
        for table, column in (("mutations", "details"), ("conflicts", "args"),
                              ("job_events", "data")):
            for (raw,) in session.execute(text(f"SELECT CAST({column} AS TEXT) FROM {table} "
                                               f"WHERE {column} IS NOT NULL")):
                stored = json.loads(raw)
                app.json.dumps(stored)  # strict: no NaN
                json.dumps(stored, ensure_ascii=False).encode("utf-8")  # no lone surrogate
                assert "\\u0000" not in raw
        for job in (open_job, sealed_job):
            body = app.json.dumps(job_detail(session, session.get(Job, job.id), tech, T0))
            json.loads(body, parse_constant=refuse)
        assert session.execute(text("SELECT user_id FROM blob_uploads")).scalars().all() == [
            tech.id]
        session.remove()
        db.engine.dispose()

"""Sync at scale (issue 18): many technicians' pushes commit in parallel, each mutation once;
a pull racing a slow writer never skips its change; the change numbering's horizon."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.support.synckit import Phone, job_of_type, statuses, tech_jobs

pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")

TECHS = 6


def make_technicians(app, clock, demo, count: int) -> list[str]:
    """`count` more technicians (password as the demo's), each with one job of their own."""
    from fieldapp.accounts import service as accounts
    from fieldapp.accounts.context import Actor, Ctx
    from fieldapp.extensions import db
    from fieldapp.jobs import service as job_service
    from fieldapp.models import User
    from fieldapp.seed import DEMO_PASSWORD

    names = [f"scale-tech-{i}" for i in range(count)]
    with app.app_context():
        ctx = Ctx(session=db.session, clock=clock, policy=app.extensions["fieldapp.policy"])
        dispatcher = Actor(user=db.session.get(User, demo["dispatcher1"]))
        start = clock.now().replace(microsecond=0) + timedelta(hours=2)
        for name in names:
            user = accounts.create_user(ctx, name, DEMO_PASSWORD, "technician", name)
            job_service.intake(ctx, dispatcher, {
                "type": "repair", "customer": {"name": "王先生", "phone": "13912340009",
                                               "address": "上海市"},
                "product_model": "布艺沙发 SF-3S", "problem": "扶手松动", "channel": "phone",
                "scheduled_start": start, "scheduled_end": start + timedelta(hours=1),
                "technician_id": user.id})
        db.session.commit()
        db.session.remove()
    return names


def engine_bind(app):
    from fieldapp.extensions import db

    with app.app_context():
        return db.engine


def engine_pull(app, phone: Phone, cursor: str) -> dict:
    """sync.pull.pull in a session of its own (the HTTP pull also records the pull's time)."""
    from fieldapp.models import Device, User
    from sync import pull as pull_engine

    with app.app_context(), Session(engine_bind(app)) as session:
        device = session.get(Device, phone.device_id)
        user = session.get(User, device.user_id)
        return pull_engine.pull(session, user, device, cursor,
                                app.extensions["fieldapp.clock"].now(), limit=500)


def test_concurrent_pushes_from_many_technicians_apply_each_mutation_once(
        app, clock, demo, client):
    """Eight devices of six technicians push at once (threads, the real engine, one session
    each), every batch twice (a retry racing the original): each mutation applies exactly
    once, in seq order, with its log row and audit event."""
    from fieldapp.models import Device, JobEvent, MutationRecord, Note
    from sync import engine as sync_engine

    names = make_technicians(app, clock, demo, TECHS)
    phones = [Phone(client, name) for name in names]
    phones += [Phone(client, names[0], name="second phone"), Phone(client, "tech1")]
    jobs = {p.device_id: job_of_type(p, "repair")["id"] for p in phones}
    batches = {p.device_id: [[p.note(jobs[p.device_id], f"{p.device_id[:8]} {b}-{i}")
                              for i in range(8)] for b in range(3)] for p in phones}
    bind, policy = engine_bind(app), app.extensions["fieldapp.policy"]
    barrier = threading.Barrier(len(phones) * 2)

    def device_run(device_id):
        barrier.wait(timeout=30)
        answers = []
        with app.app_context(), Session(bind) as session:
            for batch in batches[device_id]:
                answers.append(sync_engine.push(session, clock, device_id, batch, policy))
        return answers

    with ThreadPoolExecutor(len(phones) * 2) as pool:
        futures = [pool.submit(device_run, p.device_id) for p in phones for _ in (0, 1)]
        outcomes = [f.result(timeout=120) for f in futures]

    for index, phone in enumerate(phones):
        first, second = outcomes[2 * index], outcomes[2 * index + 1]
        for a, b in zip(first, second):
            for r1, r2 in zip(a.results, b.results):
                assert sorted([r1["status"], r2["status"]]) == ["applied", "duplicate"]
        assert first[-1].last_seq == second[-1].last_seq == 24
    with app.app_context(), Session(bind) as session:
        for phone in phones:
            device_id = phone.device_id
            assert session.get(Device, device_id).last_seq == 24
            records = session.execute(select(MutationRecord.seq, MutationRecord.status).where(
                MutationRecord.device_id == device_id).order_by(MutationRecord.id)).all()
            assert [r.seq for r in records] == list(range(1, 25))  # in order, once each
            assert {r.status for r in records} == {"applied"}
            texts = session.scalars(select(Note.text).where(Note.device_id == device_id)).all()
            assert sorted(texts) == sorted(m["args"]["text"] for b in batches[device_id]
                                           for m in b)
            events = session.scalar(select(func.count()).select_from(JobEvent).where(
                JobEvent.device_id == device_id, JobEvent.type == "note"))
            assert events == 24
    # And each phone pulls its job with every note.
    for phone in phones:
        page = phone.pull()
        job = next(j for j in page["changes"]["jobs"] if j["id"] == jobs[phone.device_id])
        mine = [n for n in job["notes"] if n["text"].startswith(phone.device_id[:8])]
        assert len(mine) == 24


def test_a_pull_racing_a_slow_writer_never_skips_its_change(app, clock, demo, client,
                                                            monkeypatch):
    """A push takes its change number and then holds its transaction open. Meanwhile another
    device of the same technician commits a later change (PostgreSQL: in parallel) and the
    technician's phone pulls. The cursor it gets must not pass the slow change: once the slow
    push commits, the next pull from that cursor brings it."""
    from fieldapp.extensions import db
    from sync import engine as sync_engine
    from sync import registry

    postgres = engine_bind(app).dialect.name == "postgresql"
    phone = Phone(client, "tech1")
    other_device = Phone(app.test_client(), "tech1", name="tablet")
    slow_job = job_of_type(phone, "repair")["id"]
    fast_job = next(j["id"] for j in tech_jobs(phone).values() if j["id"] != slow_job
                    and j["status"] not in ("completed", "cancelled"))
    cursor = phone.pull_all()[1]

    numbered, release = threading.Event(), threading.Event()
    real_note = registry.HANDLERS["job.note"]

    def slow_note(ctx, actor, job, args, mutation_id):
        real_note(ctx, actor, job, args, mutation_id)
        if args["text"] == "slow":
            ctx.session.flush()  # the job's new change number is written (and taken)
            numbered.set()
            assert release.wait(timeout=30)

    monkeypatch.setitem(registry.HANDLERS, "job.note", slow_note)
    bind, policy = engine_bind(app), app.extensions["fieldapp.policy"]
    slow_batch = [phone.note(slow_job, "slow")]

    def slow_push():
        with app.app_context(), Session(bind) as session:
            return sync_engine.push(session, clock, phone.device_id, slow_batch, policy)

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(slow_push)
        try:
            assert numbered.wait(timeout=30)
            if postgres:  # a later number commits first (SQLite has one writer at a time)
                fast = other_device.push([other_device.note(fast_job, "fast")])
                assert statuses(fast) == {1: "applied"}
            during = engine_pull(app, phone, cursor)  # no write: SQLite's lock is taken
        finally:
            release.set()
        assert statuses({"results": pending.result(timeout=60).results}) == {1: "applied"}

    seen = {j["id"]: j for j in during["changes"]["jobs"]}
    assert slow_job not in seen  # not committed yet
    after = engine_pull(app, phone, during["cursor"])
    later = {j["id"]: j for j in after["changes"]["jobs"]}
    assert slow_job in later, "the slow writer's change was skipped"
    assert "slow" in [n["text"] for n in later[slow_job]["notes"]]
    if postgres:
        both = {**seen, **later}
        assert "fast" in [n["text"] for n in both[fast_job]["notes"]]
    with app.app_context():
        db.session.remove()


def test_horizon_waits_for_a_transaction_that_took_a_number(app, demo):
    """The change numbering itself: a number taken by an open transaction is above the
    horizon until that transaction ends; then the horizon reaches it."""
    from fieldapp.jobs import counters

    bind = engine_bind(app)
    with app.app_context(), Session(bind) as writer, Session(bind) as reader:
        writer.connection(execution_options={"fieldapp_immediate": True})
        number = counters.bump(writer)
        assert counters.current(reader) < number
        reader.rollback()
        writer.commit()
        assert counters.current(reader) >= number
        reader.rollback()


def test_postgresql_horizon_ignores_other_databases(app, demo):
    """A transaction open in another database of the same server cannot write our rows, so
    it does not hold our horizon back (another app, or a parallel test worker)."""
    from fieldapp.jobs import counters

    bind = engine_bind(app)
    if bind.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    other = bind.url.set(database="postgres")
    from sqlalchemy import create_engine  # why: a second engine, only in this test

    elsewhere = create_engine(other)
    try:
        with elsewhere.connect() as conn, app.app_context(), Session(bind) as session:
            conn.execute(text("SELECT pg_current_xact_id()"))  # an open writing transaction
            before = counters.current(session)
            session.rollback()
            number = counters.bump(session)
            session.commit()
            assert counters.current(session) >= number > before
            session.rollback()
            conn.rollback()
    finally:
        elsewhere.dispose()

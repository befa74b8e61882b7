"""Faults and races: the same batch twice at once, the same blob twice at once, pulls during
pushes, a crash mid-batch, a server restart, a phone that signs in again."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sync.blobs import LocalBlobStore
from tests.support.helpers import app_config
from tests.support.synckit import (
    Phone,
    blob_files,
    counts,
    device_last_seq,
    job_detail,
    job_of_type,
    jpeg_bytes,
    png_bytes,
    sha,
    statuses,
)

pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")


def run_together(*calls):
    """Start every call at the same moment in its own thread; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [f.result(timeout=60) for f in futures]


def clone(app, phone: Phone) -> Phone:
    """The same device (token, device id) on its own test client: a second connection."""
    twin = object.__new__(Phone)
    twin.__dict__.update(phone.__dict__)
    twin.client = app.test_client()
    return twin


def note_events(app, job_id: str) -> int:
    from fieldapp.extensions import db
    from fieldapp.models import JobEvent

    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(JobEvent).where(
            JobEvent.job_id == job_id, JobEvent.type == "note")).scalar()
        db.session.remove()
    return n


# --- 10. the same batch from the same device, twice at once ----------------------------------

def test_same_batch_pushed_twice_at_once_over_http(app, api, tech1, job):
    twin = clone(app, tech1)
    applied_total = 0
    for round_ in range(4):
        batch = [tech1.note(job["id"], f"r{round_} n{i}") for i in range(6)]
        first, second = run_together(lambda: tech1.push_raw(batch), lambda: twin.push_raw(batch))
        assert first.status_code == 200, first.get_json()
        assert second.status_code == 200, second.get_json()
        a, b = first.get_json(), second.get_json()
        assert a["last_seq"] == b["last_seq"] == batch[-1]["seq"]
        for seq in (m["seq"] for m in batch):
            pair = sorted([statuses(a)[seq], statuses(b)[seq]])
            assert pair == ["applied", "duplicate"], (seq, a, b)
        applied_total += len(batch)
        detail = job_detail(api, job["id"])
        assert len(detail["notes"]) == applied_total
        assert len({n["text"] for n in detail["notes"]}) == applied_total
        assert note_events(app, job["id"]) == applied_total
    assert device_last_seq(app, tech1.device_id) == applied_total


def test_same_batch_pushed_twice_at_once_on_the_engine(app, tech1, job):
    """sync.engine.push with two Sessions of the app's engine, each in its own thread."""
    from fieldapp.extensions import db
    from sync import engine as sync_engine

    clock = app.extensions["fieldapp.clock"]
    policy = app.extensions["fieldapp.policy"]
    with app.app_context():
        bind = db.engine

    def push(batch):
        with app.app_context(), Session(bind) as session:
            return sync_engine.push(session, clock, tech1.device_id, batch, policy)

    digest = tech1.upload(jpeg_bytes(1), "image/jpeg")
    batch = [tech1.note(job["id"], "a"), tech1.answer(job["id"], "id_before_entry", True),
             tech1.photo(job["id"], digest, item_key="damage_photo"),
             tech1.status(job["id"], "en_route"), tech1.note(job["id"], "b"),
             tech1.status(job["id"], "on_site"), tech1.note(job["id"], "c")]
    before = counts(app, job["id"])

    one, two = run_together(lambda: push(batch), lambda: push(batch))

    assert one.last_seq == two.last_seq == len(batch)
    for r1, r2 in zip(one.results, two.results):
        assert r1["seq"] == r2["seq"]
        assert sorted([r1["status"], r2["status"]]) == ["applied", "duplicate"], (r1, r2)
    after = counts(app, job["id"])
    assert after["notes"] == before["notes"] + 3
    assert after["answers"] == before["answers"] + 1
    assert after["photos"] == before["photos"] + 1
    assert after["events"] == before["events"] + len(batch)
    assert after["mutations"] == before["mutations"] + len(batch)


def test_overlapping_batches_at_once(app, api, tech1, job):
    """One connection re-sends 1-6 while another sends 4-10: each seq applies once."""
    twin = clone(app, tech1)
    batch = [tech1.note(job["id"], f"n{i}") for i in range(1, 11)]
    tech1.push(batch[:3])
    first, second = run_together(lambda: tech1.push_raw(batch[:6]),
                                 lambda: twin.push_raw(batch[3:]))
    assert first.status_code == 200 and second.status_code == 200, (first.get_json(),
                                                                       second.get_json())
    assert device_last_seq(app, tech1.device_id) == 10
    notes = [n["text"] for n in job_detail(api, job["id"])["notes"]]
    assert sorted(notes) == sorted(f"n{i}" for i in range(1, 11))


def test_pushes_and_pulls_of_other_devices_at_once(app, client, clock, tech1, job):
    """Pushes and pulls from different devices interleave freely: SQLite has one writer and
    a transaction that has read cannot start writing once another has committed, so every
    request that writes must take the lock first; none may fail with "database is locked".
    The clock moves a minute per request, so each request also records the device's
    last-seen time."""
    tech2 = Phone(client, "tech2")
    job2 = job_of_type(tech2, "repair")
    puller1, puller2 = clone(app, tech1), clone(app, tech2)
    pusher1, pusher2 = clone(app, tech1), clone(app, tech2)
    rounds = 25
    b1 = [tech1.note(job["id"], f"t1 {i}") for i in range(rounds)]
    b2 = [tech2.note(job2["id"], f"t2 {i}") for i in range(rounds)]

    def pushes(phone, batch):
        codes = []
        for mutation in batch:
            clock.advance(seconds=61)
            codes.append(phone.push_raw([mutation]).status_code)
        return codes

    def pulls(phone):
        codes = []
        for _ in range(rounds):
            clock.advance(seconds=61)
            codes.append(phone.pull_raw().status_code)
        return codes

    results = run_together(lambda: pushes(pusher1, b1), lambda: pushes(pusher2, b2),
                           lambda: pulls(puller1), lambda: pulls(puller2))
    assert results == [[200] * rounds] * 4
    assert device_last_seq(app, tech1.device_id) == rounds
    assert device_last_seq(app, tech2.device_id) == rounds
    assert note_events(app, job["id"]) == rounds


def test_same_blob_put_twice_at_once(app, tech1):
    """Both uploads finish hashing at the same moment, then race to record the blob."""
    root = app.config["BLOB_ROOT"]
    barrier = threading.Barrier(2)

    class MeetAfterIngest(LocalBlobStore):
        def ingest(self, stream, sha256, max_bytes):
            stored = super().ingest(stream, sha256, max_bytes)
            barrier.wait(timeout=10)
            return stored

    app.extensions["fieldapp.blobs"] = MeetAfterIngest(root)
    twin = clone(app, tech1)
    data = jpeg_bytes(3)

    first, second = run_together(lambda: tech1.put_blob(data, content_type="image/jpeg"),
                                 lambda: twin.put_blob(data, content_type="image/jpeg"))

    assert sorted([first.status_code, second.status_code]) == [200, 201], \
        (first.get_json(), second.get_json())
    assert blob_files(root) == [f"{sha(data)[:2]}/{sha(data)[2:]}"]
    assert tech1.head_blob(sha(data)).status_code == 200
    assert tech1.get_blob(sha(data)).data == data


def test_same_blob_put_many_times_at_once(app, tech1):
    root = app.config["BLOB_ROOT"]
    phones = [tech1] + [clone(app, tech1) for _ in range(3)]
    data = png_bytes(4, size=(300, 300))
    answers = run_together(*[(lambda p=p: p.put_blob(data)) for p in phones])
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 200, 200, 201], [a.get_json() for a in answers]
    assert blob_files(root) == [f"{sha(data)[:2]}/{sha(data)[2:]}"]


# --- a crash mid-batch -------------------------------------------------------------------------

def test_failure_mid_batch_keeps_earlier_mutations_and_nothing_of_the_failed_one(
        app, api, tech1, job, monkeypatch):
    """One transaction per batch, a savepoint per mutation: a mutation that fails unexpectedly
    is undone alone, the ones before it commit, and the answer says so (`retry`
    `server_error` for it, `last_seq` before it, nothing after it)."""
    from sync import registry as mutations

    real_note = mutations.HANDLERS["job.note"]

    def crashing_note(ctx, actor, job_, args, mutation_id):
        real_note(ctx, actor, job_, args, mutation_id)  # writes, then something breaks
        if args["text"] == "boom":
            raise RuntimeError("power cut")

    monkeypatch.setitem(mutations.HANDLERS, "job.note", crashing_note)
    batch = [tech1.note(job["id"], "one"), tech1.status(job["id"], "en_route"),
             tech1.note(job["id"], "boom"), tech1.note(job["id"], "four")]
    before = counts(app, job["id"])

    answer = tech1.push(batch)

    assert answer["results"] == [
        {"seq": 1, "status": "applied"}, {"seq": 2, "status": "applied"},
        {"seq": 3, "status": "retry", "reason": "server_error"}]
    assert answer["last_seq"] == 2
    assert device_last_seq(app, tech1.device_id) == 2
    after = counts(app, job["id"])
    assert after["notes"] == before["notes"] + 1
    assert after["events"] == before["events"] + 2
    assert after["mutations"] == before["mutations"] + 2

    # Fixed; the phone re-sends everything it holds.
    monkeypatch.setitem(mutations.HANDLERS, "job.note", real_note)
    answer = tech1.push(batch)
    assert statuses(answer) == {1: "duplicate", 2: "duplicate", 3: "applied", 4: "applied"}
    notes = [n["text"] for n in job_detail(api, job["id"])["notes"]]
    assert sorted(notes) == ["boom", "four", "one"]


def test_failed_commit_keeps_nothing_of_the_batch(app, api, tech1, job, monkeypatch):
    """The batch's one commit fails (the database went away): nothing of it is kept, the
    push answers an error (no results), and re-sending applies each mutation once."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session as OrmSession

    from sync.models import MutationRecord

    batch = [tech1.note(job["id"], "one"), tech1.status(job["id"], "en_route"),
             tech1.note(job["id"], "two")]
    before = counts(app, job["id"])

    def lose_connection(session):
        if any(isinstance(o, MutationRecord) for o in session.new):  # the last log row
            raise RuntimeError("connection lost at commit")

    event.listen(OrmSession, "before_commit", lose_connection)
    try:
        with pytest.raises(RuntimeError):
            tech1.push(batch)
    finally:
        event.remove(OrmSession, "before_commit", lose_connection)

    assert device_last_seq(app, tech1.device_id) == 0
    assert counts(app, job["id"]) == before
    answer = tech1.push(batch)
    assert statuses(answer) == {1: "applied", 2: "applied", 3: "applied"}
    assert sorted(n["text"] for n in job_detail(api, job["id"])["notes"]) == ["one", "two"]


# --- 11. a server restart ---------------------------------------------------------------------

def test_server_restart_mid_sync_continues(app, db_url, clock, tech1, job):
    from fieldapp import create_app
    from fieldapp.cli import install_fixed_rows
    from fieldapp.extensions import db

    digest = tech1.upload(jpeg_bytes(5), "image/jpeg")
    batch = [tech1.note(job["id"], "before restart"),
             tech1.photo(job["id"], digest, item_key="damage_photo"),
             tech1.status(job["id"], "en_route")]
    tech1.push(batch)
    cursor = tech1.pull()["cursor"]
    before = counts(app)

    second = create_app(app_config(db_url, app.config["BLOB_ROOT"], clock))
    try:
        with second.app_context():
            install_fixed_rows()  # what `flask db upgrade` / init-db runs on every start
        restarted = object.__new__(Phone)
        restarted.__dict__.update(tech1.__dict__)
        restarted.client = second.test_client()

        # Same token, same device: the old answers replay, new mutations continue the seq.
        assert restarted.pull(cursor)["changes"]["checklist_templates"] == []
        assert restarted.pull(cursor)["last_seq"] == 3
        more = [restarted.note(job["id"], "after restart"),
                restarted.status(job["id"], "on_site")]
        answer = restarted.push(batch + more)
        assert statuses(answer) == {1: "duplicate", 2: "duplicate", 3: "duplicate",
                                    4: "applied", 5: "applied"}
        assert answer["last_seq"] == 5
        assert counts(second)["notes"] == before["notes"] + 1
        assert restarted.head_blob(digest).status_code == 200
        assert restarted.get_blob(digest).data == jpeg_bytes(5)
        page = restarted.pull(cursor)
        assert [j["id"] for j in page["changes"]["jobs"]] == [job["id"]]
        assert page["changes"]["jobs"][0]["status"] == "on_site"
        assert page["last_seq"] == 5
    finally:
        with second.app_context():
            db.session.remove()
            db.engine.dispose()
    # The first instance sees the same state.
    assert device_last_seq(app, tech1.device_id) == 5
    assert tech1.push(batch + more)["results"][-1]["status"] == "duplicate"


# --- 12. a phone that signs in again -----------------------------------------------------------

def test_new_registration_resends_pending_as_duplicates(app, api, client, tech1, job):
    digest = tech1.upload(jpeg_bytes(6), "image/jpeg")
    sent = [tech1.note(job["id"], "one"), tech1.answer(job["id"], "id_before_entry", True),
            tech1.photo(job["id"], digest, item_key="damage_photo"),
            tech1.status(job["id"], "en_route")]
    tech1.push(sent)  # processed; the answer was lost, then the phone lost its token
    before = counts(app, job["id"])

    phone = Phone(client, "tech1", name="same phone, new sign-in")
    assert phone.device_id != tech1.device_id
    assert phone.pull()["last_seq"] == 0
    # Its queue still holds the four, plus one made since; renumbered from 1.
    pending = [dict(m, seq=i + 1) for i, m in enumerate(sent)]
    pending.append(phone.mutation("job.note", job["id"], {"text": "two"}, seq=5))
    phone.seq = 5

    answer = phone.push(pending)

    assert statuses(answer) == {1: "duplicate", 2: "duplicate", 3: "duplicate",
                                4: "duplicate", 5: "applied"}
    assert answer["last_seq"] == 5
    after = counts(app, job["id"])
    assert after["notes"] == before["notes"] + 1
    assert after["answers"] == before["answers"]
    assert after["photos"] == before["photos"]
    detail = job_detail(api, job["id"])
    assert sorted(n["text"] for n in detail["notes"]) == ["one", "two"]
    assert detail["status"] == "en_route"
    assert [e["data"]["to"] for e in detail["events"] if e["type"] == "status"] == ["en_route"]

    # Replayed on the new registration: duplicates again, still nothing doubled.
    again = phone.push(pending)
    assert set(statuses(again).values()) == {"duplicate"}
    assert counts(app, job["id"])["notes"] == after["notes"]


def test_sign_in_again_with_the_old_device_id_keeps_last_seq(app, client, tech1, job):
    sent = [tech1.note(job["id"], "a"), tech1.note(job["id"], "b")]
    tech1.push(sent)
    old_token = tech1.token
    again = Phone(client, "tech1", device_id=tech1.device_id)
    assert again.device_id == tech1.device_id
    assert again.pull()["last_seq"] == 2
    # The old token is replaced.
    stale = client.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {old_token}"})
    assert stale.status_code == 401
    # Replays answer from the log; the queue continues at 3.
    again.seq = 2
    replay = again.push(sent)
    assert statuses(replay) == {1: "duplicate", 2: "duplicate"}
    answer = again.push([again.note(job["id"], "c")])
    assert statuses(answer) == {3: "applied"}
    # Someone else's device id is not taken over: a new device instead.
    other = Phone(client, "tech2", device_id=tech1.device_id)
    assert other.device_id != tech1.device_id
    assert other.pull()["last_seq"] == 0
    assert device_last_seq(app, tech1.device_id) == 3

"""Property-based tests of sync: simulated phones against the real app, over HTTP.

`SyncMachine` drives three technician devices (tech1's two phones and tech2's phone) and the
dispatcher through random offline edits, lost requests, lost responses, replays, phones that
re-register, and reassignments, reschedules and cancellations, all through the Flask test
client (`/api/v1/sync/push`, `/api/v1/sync/pull`, `PATCH /api/v1/jobs/<id>`).

Each phone is modelled the way the real one works: an outbox of mutations
`{seq, id, type, job_id, at, args}`, numbered from 1 without gaps, and a replica of its jobs
built only from pulls. An outbox entry is deleted only when a push answered for its seq with
a final status (applied, duplicate, rejected, conflict). A 409 `seq_gap` is handled by
re-sending the outbox from `expected_seq`.

Next to the phones runs a reference model of the server (job status, holder, answers, notes,
conflicts, audit events and each device's mutation log). Every push is predicted by the
model before it is sent and the server's answer must match it; the database is compared with
the model after every step. The properties:

1. every mutation the server processed is in its log exactly once, and every answer a phone
   got is the one in the log; notes exist once under their mutation id; each answer is the
   last applied write for its item in server order; one audit event per applied mutation;
2. nothing is applied twice: per job, the events of each kind equal the applied mutations
   of that kind in the log (and the model's count);
3. after a complete pull, a phone's replica is exactly the server's view of its user's jobs
   (ids, holder, status, answers) and holds no job assigned to someone else;
4. the `last_seq` a phone hears never goes backwards, and after a push of its whole outbox
   it equals the phone's highest answered seq.

Bounded by default (25 examples of 30 steps); `FIELDAPP_HYPOTHESIS_EXAMPLES=500` runs longer.
Runs on SQLite (a fresh file per example) and on PostgreSQL when FIELDAPP_TEST_DATABASE_URL
is set (tables truncated per example).
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from fieldapp.core import states
from fieldapp.core.roles import DISPATCHER, ROLES, TECHNICIAN
from tests.support.database import PG_URL, copy_sqlite, truncate
from tests.support.helpers import T0, app_config

EXAMPLES = int(os.environ.get("FIELDAPP_HYPOTHESIS_EXAMPLES", "25"))
MACHINE_SETTINGS = settings(max_examples=EXAMPLES, stateful_step_count=30, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow])

PASSWORD = "fieldapp-demo"
FINAL = ("applied", "duplicate", "rejected", "conflict")
PHONES = {"t1a": "tech1", "t1b": "tech1", "t2": "tech2"}
# What the runs did, printed at the end of the test (`pytest -s` shows it).
STATS: Counter = Counter()


def event(what: str) -> None:
    STATS[what] += 1


# Hypothesis leans towards the first choice of a list: let that be the phone with the most
# pending work, so that pushes mostly carry something.
BUSIEST = "busiest"
PHONE_CHOICE = st.sampled_from((BUSIEST, *sorted(PHONES)))
NETWORK = ("ok", "lost_response", "ok", "lost_response", "lost_request", "tail_first", "replay",
           "pull_lost")
TEXTS = ("ok", "已检查，无异常", "", "   ", "x" * 120, "Kunde nicht da 🙂")
# One offline change: (what, which job/item, yes-no answer or reason given, text).
EDITS = st.lists(st.tuples(
    st.sampled_from(["answer", "answer", "note", "move", "move", "bad_move"]),
    st.integers(0, 10_000), st.booleans(), st.sampled_from(TEXTS)), min_size=1, max_size=4)


@dataclass(frozen=True)
class OfflineEdits:
    phone: str
    edits: list


@dataclass(frozen=True)
class Sync:
    phone: str
    network: str
    pick: int  # which earlier batch a replay repeats


@dataclass(frozen=True)
class SignInAgain:
    phone: str
    resume: bool  # with the old device id (keeps its seq) or as a new device


@dataclass(frozen=True)
class DispatcherChange:
    pick: int  # which job
    action: str


SYNC = st.builds(Sync, PHONE_CHOICE, st.sampled_from(NETWORK), st.integers(0, 10_000))
EDIT = st.builds(OfflineEdits, st.sampled_from(sorted(PHONES)), EDITS)
DISPATCH = st.builds(DispatcherChange, st.integers(0, 10_000),
                     st.sampled_from(["reassign", "reassign", "reschedule", "cancel"]))
SIGN_IN = st.builds(SignInAgain, PHONE_CHOICE, st.booleans())
# Roughly: 4 syncs, 3 edits, 2 office changes, 1 sign-in in 10 steps.
ACTIONS = st.sampled_from(["sync"] * 4 + ["edit"] * 3 + ["dispatch"] * 2 + ["sign_in"]).flatmap(
    {"sync": SYNC, "edit": EDIT, "dispatch": DISPATCH, "sign_in": SIGN_IN}.__getitem__)


# --- the phone ---------------------------------------------------------------------------

@dataclass
class Phone:
    name: str
    username: str
    token: str = ""
    device_id: str = ""
    next_seq: int = 1
    outbox: list = field(default_factory=list)     # mutations not yet answered
    sent: list = field(default_factory=list)       # batches put on the wire (for replays)
    replica: dict = field(default_factory=dict)    # job id -> job, only from pulls
    templates: dict = field(default_factory=dict)  # template id -> template
    cursor: str = ""
    answered: int = 0        # highest seq the server answered with a final status
    answered_seqs: set = field(default_factory=set)
    heard_last_seq: int = 0  # highest last_seq the server told this registration


# --- the reference model of the server ---------------------------------------------------

@dataclass
class JobModel:
    status: str
    technician_id: int | None
    work_started: bool
    scheduled: tuple
    held: set                # technicians who ever held the job (job_assignments)
    events: Counter
    needs_review: bool = False
    answers: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)      # note id (= mutation id) -> text
    conflicts: set = field(default_factory=set)    # mutation ids kept as conflicts


@dataclass
class DeviceModel:
    user_id: int
    last_seq: int = 0
    log: dict = field(default_factory=dict)        # seq -> (mutation id, status, reason)


def effective_status(result: dict) -> str:
    """What became of the mutation the first time the server processed it."""
    if result["status"] != "duplicate":
        return result["status"]
    original = result.get("original_status")
    if original in (None, "duplicate"):  # a duplicate of a mutation sent under another device
        original = (result.get("details") or {}).get("original_status")
    return original


class SyncMachine(RuleBasedStateMachine):
    pg_engine = None  # set by the test from the session fixture when on PostgreSQL
    demo_template = None  # on SQLite: the session's database file with the demo data at T0

    # --- set-up and tear-down ----------------------------------------------------------

    @initialize(backlog=st.lists(st.tuples(st.sampled_from(sorted(PHONES)), EDITS), max_size=3))
    def start(self, backlog):
        """A fresh database with the demo data; every phone signed in and pulled; then
        `backlog`: what the technicians did offline before the first step."""
        from fieldapp import create_app
        from fieldapp.cli import install_fixed_rows
        from fieldapp.core.clock import FixedClock
        from fieldapp.extensions import db, limiter
        from fieldapp.models import Job, JobAssignment, JobEvent, User
        from fieldapp.seed import seed_demo

        self.tmp = tempfile.mkdtemp(prefix="fieldapp-props-")
        if PG_URL:
            truncate(self.pg_engine)
            url = PG_URL
        else:
            url = copy_sqlite(self.demo_template, os.path.join(self.tmp, "test.db"))
        self.clock = FixedClock(T0)
        self.app = create_app(app_config(url, os.path.join(self.tmp, "blobs"), self.clock))
        self.db = db
        with self.app.app_context():
            if PG_URL:  # the SQLite template holds all of this already
                install_fixed_rows()
                seed_demo(db.session, self.clock)
            limiter.reset()
            self.user_ids = {u.username: u.id for u in db.session.scalars(select(User))}
            self.jobs: dict[str, JobModel] = {}
            for job in db.session.scalars(select(Job).order_by(Job.ref)):
                events = Counter(db.session.scalars(
                    select(JobEvent.type).where(JobEvent.job_id == job.id)))
                held = set(db.session.scalars(select(JobAssignment.technician_id).where(
                    JobAssignment.job_id == job.id)))
                self.jobs[job.id] = JobModel(job.status, job.technician_id,
                                             job.arrived_at is not None,
                                             (job.scheduled_start, job.scheduled_end),
                                             held, events)
            db.session.remove()
        # Jobs in `ref` order (ids are random): the same example picks the same jobs when
        # Hypothesis runs it again.
        self.job_ids = list(self.jobs)
        self.client = self.app.test_client()
        self.devices: dict[str, DeviceModel] = {}
        self.first: dict[str, tuple] = {}       # mutation id -> (status, reason, user id)
        self.mutations: dict[str, dict] = {}    # mutation id -> the mutation
        self.acked: dict[str, str] = {}         # mutation id -> status a phone was told
        self.slot = 0
        self.dispatcher_token = self._login("dispatcher1", "office")["token"]
        self.phones = {name: Phone(name, username) for name, username in PHONES.items()}
        for phone in self.phones.values():
            self._register(phone)
            self._pull_all(phone)
        for name, edits in backlog:
            self._edits(self.phones[name], edits)

    def teardown(self):
        event("example")
        app = getattr(self, "app", None)
        if app is not None:
            with app.app_context():
                self.db.session.remove()
                self.db.engine.dispose()
        if getattr(self, "tmp", None):
            shutil.rmtree(self.tmp, ignore_errors=True)

    # --- HTTP --------------------------------------------------------------------------

    def _login(self, username: str, device_name: str) -> dict:
        response = self.client.post("/api/v1/auth/login", json={
            "username": username, "password": PASSWORD, "device_name": device_name})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def _register(self, phone: Phone) -> None:
        body = self._login(phone.username, f"phone {phone.name}")
        phone.token, phone.device_id = body["token"], body["device_id"]
        assert phone.device_id not in self.devices
        self.devices[phone.device_id] = DeviceModel(self.user_ids[phone.username])

    def _http(self, method: str, path: str, token: str, body=None):
        return self.client.open(path, method=method, json=body,
                                headers={"Authorization": f"Bearer {token}"})

    # --- the model of push -------------------------------------------------------------

    def _model_push(self, device: DeviceModel, batch: list[dict]):
        """What the server must answer: ("gap", expected_seq) or ("ok", results)."""
        expected = device.last_seq + 1
        for m in sorted(batch, key=lambda m: m["seq"]):
            if m["seq"] > expected:
                return "gap", device.last_seq + 1
            expected = max(expected, m["seq"] + 1)
        results = []
        for m in sorted(batch, key=lambda m: m["seq"]):
            if m["seq"] <= device.last_seq:
                held_id, status, reason = device.log[m["seq"]]
                assert held_id == m["id"], "the simulated phone reused a seq"
                results.append({"seq": m["seq"], "status": "duplicate", "reason": reason,
                                "original_status": status})
                continue
            status, reason = self._model_apply(device, m)
            device.log[m["seq"]] = (m["id"], status, reason)
            device.last_seq = m["seq"]
            results.append({"seq": m["seq"], "status": status, "reason": reason})
        return "ok", results

    def _model_apply(self, device: DeviceModel, m: dict) -> tuple[str, str | None]:
        user_id, mutation_id = device.user_id, m["id"]
        earlier = self.first.get(mutation_id)
        if earlier is not None:
            assert earlier[2] == user_id
            event("model: re-sent under a new registration -> duplicate")
            return "duplicate", earlier[1]
        status, reason = self._model_decide(user_id, m)
        event(f"model: {m['type']} {status} {reason or ''}")
        self.first[mutation_id] = (status, reason, user_id)
        return status, reason

    def _model_decide(self, user_id: int, m: dict) -> tuple[str, str | None]:
        type_, args = m["type"], m["args"]
        if type_ == "job.note" and args["text"] == "":
            return "rejected", "invalid_args"
        job = self.jobs[m["job_id"]]
        if job.technician_id != user_id:
            if user_id not in job.held:
                return "rejected", "job_not_found"
            return self._model_conflict(job, m, "reassigned")
        if job.status == states.CANCELLED:
            return self._model_conflict(job, m, "cancelled")
        if job.status in states.LOCKED:
            return self._model_conflict(job, m, "approved")
        if type_ == "checklist.answer":
            job.answers[args["item_key"]] = args["value"]
            job.events["answer"] += 1
            return "applied", None
        if type_ == "job.note":
            if not args["text"].strip():
                return "rejected", "empty_note"
            job.notes[m["id"]] = args["text"]
            job.events["note"] += 1
            return "applied", None
        assert type_ == "job.status"
        try:
            requirements = states.check_move(job.status, args["status"], TECHNICIAN)
        except states.MoveRefused as refused:
            return "rejected", refused.code
        if "reason" in requirements and not (args.get("reason") or "").strip():
            return "rejected", "reason_required"
        if "completion" in requirements:  # these phones never attach a signature
            return "rejected", "checklist_incomplete"
        job.status = args["status"]
        if job.status == states.ON_SITE:
            job.work_started = True
        job.events["status"] += 1
        return "applied", None

    @staticmethod
    def _model_conflict(job: JobModel, m: dict, reason: str) -> tuple[str, str]:
        job.conflicts.add(m["id"])
        job.needs_review = True
        job.events["late_evidence"] += 1
        return "conflict", reason

    # --- the phone's side of push and pull ---------------------------------------------

    def _push(self, phone: Phone, batch: list[dict], *, lose_response: bool = False):
        """One POST of `batch`, checked against the model. Answers (status code, body)."""
        device = self.devices[phone.device_id]
        predicted = self._model_push(device, batch)
        response = self._http("POST", "/api/v1/sync/push", phone.token,
                              {"device_id": phone.device_id, "mutations": batch})
        phone.sent.append(batch)
        body = response.get_json()
        if predicted[0] == "gap":
            event("push: 409 seq_gap")
            assert response.status_code == 409, body
            assert body["error"] == "seq_gap"
            assert body["details"]["expected_seq"] == predicted[1], (body, predicted)
            return 409, body
        assert response.status_code == 200, body
        assert body["last_seq"] == device.last_seq, (body, device.last_seq)
        got = [(r["seq"], r["status"], r.get("reason"), effective_status(r))
               for r in body["results"]]
        want = [(r["seq"], r["status"], r["reason"],
                 self.first[self._id_of(device, r["seq"])][0]) for r in predicted[1]]
        assert got == want, (got, want)
        for _, status, reason, first in got:
            event(f"push result: {status} {reason or ''} (first: {first})")
        if lose_response:
            return None, None
        return 200, body

    @staticmethod
    def _id_of(device: DeviceModel, seq: int) -> str:
        return device.log[seq][0]

    def _deliver(self, phone: Phone, batch: list[dict]) -> None:
        """Push `batch` and take in the answer; on 409 re-send the outbox from
        expected_seq, as the phone does."""
        status, body = self._push(phone, batch)
        while status == 409:
            expected = body["details"]["expected_seq"]
            resend = [m for m in phone.outbox if m["seq"] >= expected]
            # Every seq the server has not processed is still in the outbox.
            assert resend and resend[0]["seq"] == expected, (expected, phone.outbox)
            status, body = self._push(phone, resend)
        self._take_answers(phone, body)

    def _take_answers(self, phone: Phone, body: dict) -> None:
        assert body["last_seq"] >= phone.heard_last_seq, "last_seq went backwards"
        phone.heard_last_seq = body["last_seq"]
        device = self.devices[phone.device_id]
        for result in body["results"]:
            assert result["status"] != "retry", result  # these phones name no blobs
            assert result["status"] in FINAL, result
            seq = result["seq"]
            mutation_id = self._id_of(device, seq)
            status = effective_status(result)
            assert self.acked.setdefault(mutation_id, status) == status, result
            phone.answered = max(phone.answered, seq)
            phone.answered_seqs.add(seq)
            # Deleted only now: the server answered for this seq.
            phone.outbox = [m for m in phone.outbox if m["seq"] != seq]
        assert phone.answered <= body["last_seq"]

    def _pull_all(self, phone: Phone, *, lose_answer: bool = False) -> None:
        while True:
            response = self._http("GET", f"/api/v1/sync/pull?cursor={phone.cursor}",
                                  phone.token)
            assert response.status_code == 200, response.get_json()
            if lose_answer:
                return  # the answer never reaches the phone: cursor and replica unchanged
            body = response.get_json()
            assert body["last_seq"] >= phone.heard_last_seq, "last_seq went backwards"
            phone.heard_last_seq = body["last_seq"]
            for template in body["changes"]["checklist_templates"]:
                phone.templates[template["id"]] = template
            for job in body["changes"]["jobs"]:
                phone.replica[job["id"]] = job
            for job_id in body["removed"]["jobs"]:
                phone.replica.pop(job_id, None)
            phone.cursor = body["cursor"]
            if not body["has_more"]:
                break
        self._check_replica(phone)

    def _local_status(self, phone: Phone, job_id: str) -> str:
        """The status the phone shows: the pulled one, moved by its own pending moves."""
        status = phone.replica[job_id]["status"]
        for m in phone.outbox:
            if m["job_id"] == job_id and m["type"] == "job.status":
                status = m["args"]["status"]
        return status

    # --- rules -------------------------------------------------------------------------

    def _phone(self, name: str, work=lambda phone: len(phone.outbox)) -> Phone:
        """A phone by name; "busiest" is the one with the most `work` waiting."""
        if name != BUSIEST:
            return self.phones[name]
        return max(self.phones.values(), key=lambda phone: (work(phone), phone.name))

    @rule(action=ACTIONS)
    def step(self, action):
        """One thing happens. (A single rule over every kind of action: with one rule per
        kind, Hypothesis' swarm testing would spend most examples with only one kind
        enabled, e.g. phones that edit but never sync.)"""
        if isinstance(action, OfflineEdits):
            self.offline_edits(action.phone, action.edits)
        elif isinstance(action, Sync):
            self.sync(action.phone, action.network, action.pick)
        elif isinstance(action, SignInAgain):
            self.register_again(action.phone, action.resume)
        else:
            self.dispatcher_changes_job(action.pick, action.action)

    def offline_edits(self, name: str, edits) -> None:
        """The technician changes jobs on the phone, offline: each change goes to the
        outbox."""
        event(f"rule offline_edits{'' if self.phones[name].replica else ' (no job)'}")
        self._edits(self.phones[name], edits)

    def _edits(self, phone: Phone, edits) -> None:
        for kind, pick, flag, text in edits:
            if phone.replica:
                self._edit(phone, kind, pick, flag, text)

    def _edit(self, phone: Phone, kind: str, pick: int, flag: bool, text: str) -> None:
        event(f"edit {kind}")
        job_id = sorted(phone.replica, key=lambda i: phone.replica[i]["ref"])[
            pick % len(phone.replica)]
        job = phone.replica[job_id]
        if kind == "answer":
            items = [item for item in phone.templates[job["checklist_template_id"]]["items"]
                     if item["kind"] in ("check", "text")]
            # A few items per job, so that writes to the same item (from one phone, or from
            # tech1's two phones) happen often: last write in server order must win.
            items = [i for i in items if i["kind"] == "check"][:2] + [
                i for i in items if i["kind"] == "text"][:1]
            item = items[(pick // 7) % len(items)]
            type_, args = "checklist.answer", {
                "item_key": item["key"], "value": flag if item["kind"] == "check" else text}
        elif kind == "note":
            type_, args = "job.note", {"text": text}
        else:
            legal = states.moves_from(self._local_status(phone, job_id), TECHNICIAN)
            if kind == "move" and legal:
                to = legal[pick % len(legal)]
            else:
                illegal = [s for s in states.STATUSES if s not in legal]
                to = illegal[pick % len(illegal)]
            type_, args = "job.status", {"status": to}
            if to == states.UNSUCCESSFUL and flag:
                args["reason"] = "顾客不在家 customer not at home"
        at = (T0 + timedelta(minutes=phone.next_seq)).isoformat().replace("+00:00", "Z")
        mutation = {"seq": phone.next_seq, "id": str(uuid.uuid4()), "type": type_,
                    "job_id": job_id, "at": at, "args": args}
        phone.next_seq += 1
        phone.outbox.append(mutation)
        self.mutations[mutation["id"]] = mutation

    def sync(self, name: str, network: str, pick: int) -> None:
        """Push the whole outbox, then pull, over a network that may lose or repeat
        things."""
        phone = self._phone(name)
        if network == "replay":
            # An earlier request arrives again (a second tab, a background-sync retry, a
            # proxy): the phone takes whatever answer comes back.
            phone = self._phone(name, lambda p: len(p.sent))
            event(f"rule sync replay{'' if phone.sent else ' (nothing sent yet)'}")
            if phone.sent:
                self._deliver(phone, [dict(m) for m in phone.sent[pick % len(phone.sent)]])
            return
        batch = [dict(m) for m in phone.outbox]
        event(f"rule sync {network}{'' if batch else ' (empty outbox)'}")
        if batch:
            if network == "lost_request":
                phone.sent.append(batch)  # never reached the server
                return
            if network == "lost_response":
                self._push(phone, batch, lose_response=True)
                return  # the phone learns nothing and keeps its outbox
            if network == "tail_first" and len(batch) > 1:
                # Two requests; the first one is lost, the second arrives on its own.
                half = len(batch) // 2
                phone.sent.append(batch[:half])
                self._deliver(phone, batch[half:])
            else:
                self._deliver(phone, batch)
                # The whole outbox was answered: property 4.
                assert not phone.outbox, phone.outbox
                assert phone.heard_last_seq == phone.answered == phone.next_seq - 1, (
                    phone.heard_last_seq, phone.answered, phone.next_seq)
        self._pull_all(phone, lose_answer=network == "pull_lost")

    def register_again(self, name: str, resume: bool) -> None:
        """The phone signs in again. With its old device id (token expired) it keeps its
        place in the sequence; without (site data restored, reinstalled) it becomes a new
        device and renumbers its pending mutations from 1."""
        phone = self._phone(name)
        event(f"rule register_again {'resume' if resume else 'new device'}")
        if resume:
            old_token = phone.token
            response = self.client.post("/api/v1/auth/login", json={
                "username": phone.username, "password": PASSWORD,
                "device_name": f"phone {phone.name}", "device_id": phone.device_id})
            assert response.status_code == 200, response.get_json()
            body = response.get_json()
            assert body["device_id"] == phone.device_id
            phone.token = body["token"]
            assert self._http("GET", "/api/v1/auth/me", old_token).status_code == 401
            return
        self._register(phone)
        phone.outbox = [{**m, "seq": n} for n, m in enumerate(phone.outbox, start=1)]
        phone.next_seq = len(phone.outbox) + 1
        phone.sent, phone.answered, phone.heard_last_seq = [], 0, 0
        phone.answered_seqs = set()

    def dispatcher_changes_job(self, pick: int, action: str) -> None:
        event("rule dispatcher_changes_job")
        job_id = self.job_ids[pick % len(self.job_ids)]
        job = self.jobs[job_id]
        tech1, tech2 = self.user_ids["tech1"], self.user_ids["tech2"]
        self.slot += 1
        start = T0 + timedelta(days=1, hours=self.slot)
        window = {"scheduled_start": start.isoformat(),
                  "scheduled_end": (start + timedelta(hours=2)).isoformat()}
        if action == "reassign":
            if job.technician_id is None:
                body = {"technician_id": tech1 if pick % 2 else tech2, **window}
            else:
                body = {"technician_id": tech2 if job.technician_id == tech1 else tech1}
        elif action == "reschedule":
            body = window
        else:
            body = {"status": "cancelled", "reason": "顾客取消 customer cancelled"}
            if pick % 2:  # the office's override: needed once the job is under way
                body["override"] = True
        expected = self._model_patch(job, body)
        response = self._http("PATCH", f"/api/v1/jobs/{job_id}", self.dispatcher_token, body)
        assert response.status_code == expected, (response.status_code, response.get_json())
        event(f"dispatcher {action}: {expected}")
        if expected == 200:
            got = response.get_json()
            assert (got["status"], got["technician_id"]) == (job.status, job.technician_id)

    def _model_patch(self, job: JobModel, body: dict) -> int:
        if job.status in states.CLOSED or job.status == states.COMPLETED:
            return 409
        if "status" in body:
            if job.status in states.UNDER_WAY and body.get("override") is not True:
                return 409  # job_under_way: nothing changes
            states.check_move(job.status, states.CANCELLED, DISPATCHER)
            job.status = states.CANCELLED
            job.events["status"] += 1
            return 200
        if "scheduled_start" in body:
            window = tuple(datetime.fromisoformat(body[k])
                           for k in ("scheduled_start", "scheduled_end"))
            if window != job.scheduled:
                job.scheduled = window
                job.events["rescheduled"] += 1
                if job.status == states.UNSUCCESSFUL and job.technician_id is not None \
                        and "technician_id" not in body:
                    job.status = states.SCHEDULED
                    job.events["status"] += 1
        target = body.get("technician_id")
        if target is not None and target != job.technician_id:
            job.technician_id = target
            job.held.add(target)
            if job.status in (states.NEW, states.EN_ROUTE, states.ON_SITE, states.IN_PROGRESS,
                              states.PAUSED, states.UNSUCCESSFUL):
                job.status = states.SCHEDULED
            job.events["assigned"] += 1
        return 200

    # --- properties --------------------------------------------------------------------

    def _check_replica(self, phone: Phone) -> None:
        """Property 3: after a complete pull the replica is the server's view."""
        from fieldapp.models import ChecklistAnswer, Job

        user_id = self.user_ids[phone.username]
        with self.app.app_context():
            session = self.db.session
            visible = {job.id: job for job in session.scalars(
                select(Job).where(Job.technician_id == user_id))
                if states.visible_to_assignee(job.status, job.arrived_at is not None)}
            answers: dict[str, dict] = {job_id: {} for job_id in visible}
            for answer in session.scalars(select(ChecklistAnswer).where(
                    ChecklistAnswer.job_id.in_(list(visible)))):
                answers[answer.job_id][answer.item_key] = answer.value
            session.remove()
        assert set(phone.replica) == set(visible), (phone.name, set(phone.replica) ^
                                                    set(visible))
        for job_id, job in phone.replica.items():
            assert job["technician_id"] == user_id, (phone.name, job_id)
            assert job["status"] == visible[job_id].status, (phone.name, job_id)
            assert {k: v["value"] for k, v in job["answers"].items()} == answers[job_id]

    @invariant()
    def server_matches_model(self):
        """Properties 1 and 2 (and the model's view of every job) against the database."""
        from fieldapp.models import (
            ChecklistAnswer,
            Conflict,
            Device,
            Job,
            JobEvent,
            MutationRecord,
            Note,
        )

        with self.app.app_context():
            session = self.db.session
            records = session.execute(select(
                MutationRecord.id, MutationRecord.device_id, MutationRecord.seq,
                MutationRecord.mutation_id, MutationRecord.type, MutationRecord.job_id,
                MutationRecord.status, MutationRecord.reason)
                .order_by(MutationRecord.id)).all()
            last_seqs = dict(session.execute(select(Device.id, Device.last_seq)).all())
            jobs = {job.id: job for job in session.scalars(select(Job))}
            events = session.execute(select(JobEvent.job_id, JobEvent.type, JobEvent.data,
                                            JobEvent.actor_role)).all()
            answers = session.execute(select(ChecklistAnswer.job_id, ChecklistAnswer.item_key,
                                             ChecklistAnswer.value)).all()
            notes = session.execute(select(Note.id, Note.job_id, Note.text)).all()
            conflicts = session.execute(select(Conflict.job_id, Conflict.mutation_id)).all()
            session.remove()

        # The mutation log, device by device, is the model's.
        for device_id, model in self.devices.items():
            assert last_seqs[device_id] == model.last_seq, device_id
        log = {(r.device_id, r.seq): r for r in records}
        assert len(log) == len(records) == sum(len(d.log) for d in self.devices.values())
        for device_id, model in self.devices.items():
            for seq, (mutation_id, status, reason) in model.log.items():
                record = log[(device_id, seq)]
                assert (record.status, record.reason) == (status, reason), (record, status)
                if status == "duplicate":
                    assert record.mutation_id != mutation_id  # the first record holds the id
                else:
                    assert record.mutation_id == mutation_id
        # 1. Every processed mutation is in the log exactly once, as each phone was told.
        by_id = Counter(r.mutation_id for r in records)
        assert {i: by_id[i] for i in self.first} == {i: 1 for i in self.first}
        assert {r.mutation_id for r in records if r.status != "duplicate"} == set(self.first)
        first_status = {r.mutation_id: r.status for r in records if r.mutation_id in self.first}
        for mutation_id, told in self.acked.items():
            assert first_status[mutation_id] == told, mutation_id
        applied = [r for r in records if r.status == "applied"]
        # Notes: one row per applied note, under the mutation's id.
        applied_notes = {r.mutation_id for r in applied if r.type == "job.note"}
        assert {n.id for n in notes} == applied_notes
        for note in notes:
            assert note.text == self.mutations[note.id]["args"]["text"]
            assert note.job_id == self.mutations[note.id]["job_id"]
        # Answers: the last applied write per item, in the order the server processed them.
        last_write = {}
        for r in applied:
            if r.type == "checklist.answer":
                args = self.mutations[r.mutation_id]["args"]
                last_write[(r.job_id, args["item_key"])] = args["value"]
        assert {(a.job_id, a.item_key): a.value for a in answers} == last_write
        # 2. Nothing applied twice: per job, technician events of each kind == applied
        # mutations of that kind; one late_evidence per conflict.
        kind_of = {"checklist.answer": "answer", "job.note": "note", "job.status": "status"}
        from_log = Counter((r.job_id, kind_of[r.type]) for r in applied)
        from_log.update((r.job_id, "late_evidence") for r in records if r.status == "conflict")
        from_events = Counter((e.job_id, e.type) for e in events
                              if e.actor_role == TECHNICIAN)
        assert from_events == from_log
        note_events = Counter(e.data["note_id"] for e in events if e.type == "note")
        assert note_events == Counter(applied_notes)
        assert Counter(c.mutation_id for c in conflicts) == Counter(
            r.mutation_id for r in records if r.status == "conflict")
        # Each job is what the model says.
        all_events = Counter((e.job_id, e.type) for e in events)
        for job_id, model in self.jobs.items():
            job = jobs[job_id]
            assert (job.status, job.technician_id, job.arrived_at is not None,
                    job.needs_review) == (model.status, model.technician_id,
                                          model.work_started, model.needs_review), job_id
            assert {k: all_events[(job_id, k)] for k in model.events} == dict(model.events)
            assert {k: v for (j, k), v in all_events.items() if j == job_id} == {
                k: v for k, v in model.events.items() if v}
            assert {k: v for (j, k), v in last_write.items() if j == job_id} == model.answers
            assert {n.id: n.text for n in notes if n.job_id == job_id} == model.notes
            assert {c.mutation_id for c in conflicts if c.job_id == job_id} == model.conflicts

    @invariant()
    def phones_are_consistent(self):
        """Property 4 and the outbox rules, on the phones' side."""
        for phone in self.phones.values():
            device = self.devices[phone.device_id]
            assert phone.answered <= phone.heard_last_seq <= device.last_seq
            seqs = [m["seq"] for m in phone.outbox]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            # The outbox is exactly what the server has not answered yet.
            assert set(seqs) == set(range(1, phone.next_seq)) - phone.answered_seqs


def test_sync_state_machine(pg_engine, request, monkeypatch):
    if PG_URL and pg_engine is None:  # pragma: no cover - the fixture always makes it
        pytest.skip("PostgreSQL engine missing")
    monkeypatch.setattr(SyncMachine, "pg_engine", pg_engine)
    if not PG_URL:
        monkeypatch.setattr(SyncMachine, "demo_template",
                            request.getfixturevalue("sqlite_templates")["demo"])
    STATS.clear()
    run_state_machine_as_test(SyncMachine, settings=MACHINE_SETTINGS)
    print("\nsync state machine, what happened:")
    for what, count in sorted(STATS.items()):
        print(f"  {count:6d}  {what}")


# --- the core state machine, over random walks -------------------------------------------

_TARGETS = st.one_of(st.sampled_from(states.STATUSES), st.text(max_size=12))


@settings(max_examples=300, deadline=None)
@given(start=st.sampled_from(states.STATUSES),
       moves=st.lists(st.tuples(st.sampled_from(ROLES), _TARGETS), max_size=40))
def test_random_moves_stay_inside_the_lifecycle(start, moves):
    """Whatever anyone tries, a job stays in a contract status, never leaves `approved`,
    and no technician move lands on approved, cancelled or scheduled."""
    status = start
    for role, target in moves:
        try:
            states.check_move(status, target, role)
        except states.MoveRefused as refused:
            if target not in states.STATUSES:
                assert refused.code == "unknown_status"
            else:
                assert refused.code in ("illegal_transition", "forbidden_transition")
                assert refused.allowed == states.moves_from(status, role)
                assert target not in refused.allowed
            continue
        assert target in states.STATUSES
        assert status != states.APPROVED, f"left approved for {target} as {role}"
        if role == TECHNICIAN:
            assert target not in (states.APPROVED, states.CANCELLED, states.SCHEDULED)
        assert target in states.moves_from(status, role)
        status = target
    assert status in states.STATUSES

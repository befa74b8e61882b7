"""Push: a device's mutations, applied exactly once, in seq order.

Each mutation runs in its own transaction that also advances the device's `last_seq`, under a
per-device lock (the device row `FOR UPDATE` on PostgreSQL; `BEGIN IMMEDIATE` on SQLite). So a
crash leaves either both or neither, and two pushes from the same device cannot both apply the
same seq. Replays are answered from the mutation log.

Answers per mutation (see docs/sync-protocol.md): applied, duplicate, rejected (a business
rule refused it; last_seq still advances), conflict (the job changed under the device; the
evidence is kept for the office), retry (a blob it names is missing; processing stops).

Only an envelope no seq can be read from fails the whole batch (BadBatch, a 400). Any value
inside a mutation, however hostile (NaN, a lone surrogate, NUL, the wrong JSON type, a blob
of someone else's), is `rejected` for that mutation alone (`invalid_args` naming the field,
or a more specific reason), and what it echoes back is made strict JSON first (`printable`).
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.accounts.context import Actor, Ctx
from fieldapp.accounts.models import Device, User
from fieldapp.core import states
from fieldapp.core.clock import Clock, ensure_aware
from fieldapp.core.errors import DomainError
from fieldapp.jobs import service as job_service
from fieldapp.jobs.models import Conflict, Job, JobAssignment, JobEvent
from fieldapp.mutations import in_utc_range
from sync.models import MutationRecord

from . import registry
from .registry import parse_args
from .values import MutationInvalid, printable, text_problem, value_problem

APPLIED, DUPLICATE, REJECTED, CONFLICT, RETRY = (
    "applied", "duplicate", "rejected", "conflict", "retry")
SERVER_ERROR = "server_error"  # a `retry` reason: the mutation failed unexpectedly
log = logging.getLogger(__name__)
MAX_BATCH = 500
ID_TAKEN = "mutation_id_taken"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class SeqGap(Exception):
    def __init__(self, expected_seq: int):
        super().__init__(f"expected seq {expected_seq}")
        self.expected_seq = expected_seq


class BadBatch(Exception):
    def __init__(self, code: str, details: dict):
        super().__init__(code)
        # The details echo what the client sent: made safe to send back as strict JSON.
        self.code, self.details = code, (printable(details) if value_problem(details)
                                         else details)


@dataclass
class PushOutcome:
    last_seq: int
    results: list[dict] = field(default_factory=list)


def lock_device(session: Session, device_id: str) -> Device:
    """Start this mutation's transaction holding the device's write lock."""
    # `fieldapp_immediate` makes the SQLite connection BEGIN IMMEDIATE (see fieldapp.db).
    session.connection(execution_options={"fieldapp_immediate": True})
    return session.execute(select(Device).where(Device.id == device_id).with_for_update()
                           ).scalar_one()


def _envelope(raw) -> tuple[int, str, str, str | None, dict, datetime | None]:
    """Check a mutation's outer shape. Raises BadBatch for what no seq can be given for."""
    if not isinstance(raw, dict):
        raise BadBatch("bad_mutation", {"mutation": repr(raw)[:200]})
    seq = raw.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise BadBatch("bad_seq", {"seq": seq})
    return seq, raw.get("id"), raw.get("type"), raw.get("job_id"), raw.get("args"), raw.get("at")


def _parse_at(value) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or text_problem(value):  # fromisoformat stops at a NUL
        raise MutationInvalid("bad_at", {"at": value})
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MutationInvalid("bad_at", {"at": value}) from None
    if not in_utc_range(ensure_aware(moment) if moment.tzinfo is None else moment):
        raise MutationInvalid("bad_at", {"at": value})
    return ensure_aware(moment)


# --- time of record (issue 16) -------------------------------------------------------------
# A phone's clock may be hours off, and offline work reaches the server hours later. The push
# carries `sent_at` (the phone's clock when it sent the batch); receipt minus `sent_at` is the
# phone's clock offset, and a mutation's `at` plus that offset is when it happened. Without a
# usable `sent_at` the offset is taken as zero. Either way the moment is never after the
# server received it and never before the job's previous move (or its creation).

MOVE_EVENTS = ("status", "assigned", "unassigned")


def clock_offset(sent_at, received: datetime, mutations: list) -> timedelta | None:
    """Receipt minus the phone's `sent_at`; None when `sent_at` is missing, unreadable, or
    earlier (by the phone's own clock) than a mutation it sends, which no honest phone does."""
    try:
        sent = _parse_at(sent_at)
    except MutationInvalid:
        return None
    if sent is None:
        return None
    for raw in mutations:
        try:
            at = _parse_at(raw.get("at")) if isinstance(raw, dict) else None
        except MutationInvalid:
            continue
        if at is not None and at - sent > timedelta(seconds=1):  # no overflow near year 9999
            return None
    return received - sent


def time_of_record(device_at: datetime | None, offset: timedelta | None, received: datetime,
                   not_before: datetime | None) -> datetime:
    """When a mutation happened: `at` corrected by the offset, within [not_before, received]."""
    if device_at is None:
        return received
    try:
        moment = device_at + (offset or timedelta(0))
    except OverflowError:  # beyond year 9999 or before year 1
        moment = received if offset > timedelta(0) else (not_before or received)
    moment = min(moment, received)
    if not_before is not None and moment < not_before:
        moment = min(not_before, received)
    return moment


def _previous_move_at(session: Session, job: Job) -> datetime:
    """The time of record of the job's latest status move (its creation when none)."""
    last = session.execute(
        select(JobEvent.at, JobEvent.server_at).where(JobEvent.job_id == job.id,
                                                      JobEvent.type.in_(MOVE_EVENTS))
        .order_by(JobEvent.id.desc()).limit(1)).first()
    times = [ensure_aware(job.created_at)]
    if last is not None:
        times.append(ensure_aware(last.at or last.server_at))
    return max(times)


STORAGE_KEYS = ("persisted", "sw", "idb")


def client_state(client) -> dict | None:
    """The push's optional `client` object, reduced to the shape the office is shown:
    `{"storage": {persisted, sw, idb: bool}, "pending": int}`. Anything else is left out (a
    phone's self-report never fails its push)."""
    if not isinstance(client, dict):
        return None
    out: dict = {}
    storage = client.get("storage")
    if isinstance(storage, dict):
        out["storage"] = {k: storage[k] for k in STORAGE_KEYS
                          if isinstance(storage.get(k), bool)}
    pending = client.get("pending")
    if isinstance(pending, int) and not isinstance(pending, bool) and 0 <= pending < 10**9:
        out["pending"] = pending
    return out or None


def record_pending(device: Device, pending: int, now: datetime) -> None:
    """A pull's report of what still waits on the phone after its push: the push's own count
    includes the batch it was sending, so without this a phone that sent everything would
    still show its last batch as waiting (and, revoked, as lost)."""
    device.client = {**(device.client or {}), "pending": pending,
                     "reported_at": now.isoformat().replace("+00:00", "Z")}


def _record_device_state(device: Device, client: dict | None, offset: timedelta | None,
                         now: datetime) -> None:
    device.last_push_at = now  # a push with nothing to send still shows the phone is online
    if client is not None:
        device.client = {**client, "reported_at": now.isoformat().replace("+00:00", "Z")}
    if offset is not None:
        device.clock_offset_ms = int(offset / timedelta(milliseconds=1))


@dataclass
class _Batch:
    """What one push's transaction knows beyond the database: read once per batch instead of
    once per mutation. Its log rows are written together at the end (one INSERT)."""
    device: Device
    user: User
    last_seq: int
    logged_ahead: set  # seqs in the log beyond last_seq (a database restored inconsistently)
    ids: dict  # mutation id -> (its log record, the user it belongs to)
    records: dict = field(default_factory=dict)  # seq -> this batch's new log row
    locked: set = field(default_factory=set)  # jobs locked in this transaction


def _open_batch(session: Session, device: Device, parsed: list) -> _Batch:
    ids = [m[1] for m in parsed if isinstance(m[1], str) and _UUID.match(m[1])]
    known = {}
    if ids:
        for record, user_id in session.execute(
                select(MutationRecord, Device.user_id).join(Device)
                .where(MutationRecord.mutation_id.in_(set(ids)))):
            known[record.mutation_id] = (record, user_id)
    ahead = set(session.scalars(select(MutationRecord.seq).where(
        MutationRecord.device_id == device.id, MutationRecord.seq > device.last_seq)))
    return _Batch(device=device, user=session.get(User, device.user_id),
                  last_seq=device.last_seq, logged_ahead=ahead, ids=known)


def push(session: Session, clock: Clock, device_id: str, mutations: list, policy=None,
         sent_at=None, client=None) -> PushOutcome:
    """Process a batch in one transaction, under the device's lock, with a savepoint per
    mutation; commits once at the end. Raises SeqGap (nothing processed) when the batch does
    not start at or before `last_seq + 1` or has a hole. `sent_at` and `client` are the
    push's optional device clock and self-report (issue 16).

    A mutation that fails unexpectedly (a bug, a constraint, a deadlock) is rolled back to its
    savepoint alone, answers `retry` `server_error`, and ends the batch: the mutations before
    it commit. When even that commit fails, the exception propagates and nothing of the batch
    is kept (the HTTP answer is a 5xx; re-sending is safe, replays answer from the log)."""
    if not isinstance(mutations, list):
        raise BadBatch("bad_batch", {"mutations": "must be a list"})
    if len(mutations) > MAX_BATCH:
        raise BadBatch("batch_too_large", {"max": MAX_BATCH})
    parsed = sorted((_envelope(m) + (m,) for m in mutations), key=lambda t: t[0])
    offset = clock_offset(sent_at, clock.now(), mutations)
    reported = client_state(client)

    session.rollback()  # the batch's transaction begins with the device lock
    try:
        device = lock_device(session, device_id)
        expected = device.last_seq + 1
        for seq, *_ in parsed:
            if seq > expected:
                raise SeqGap(expected)
            expected = max(expected, seq + 1)
        if reported is not None or offset is not None:
            _record_device_state(device, reported, offset, clock.now())
        batch = _open_batch(session, device, parsed)
        outcome = PushOutcome(last_seq=device.last_seq)
        for seq, mutation_id, type_, job_id, args, at, raw in parsed:
            result = _process_one(session, clock, batch, seq, mutation_id, type_,
                                  job_id, args, at, policy, offset)
            outcome.results.append(result)
            if result["status"] == RETRY:
                break
        if batch.records:
            session.add_all(batch.records.values())
            device.last_push_at = clock.now()
        device.last_seq = outcome.last_seq = batch.last_seq
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return outcome


def _process_one(session, clock, batch: _Batch, seq, mutation_id, type_, job_id, args, at,
                 policy, offset=None):
    """One mutation inside the batch's transaction. Its effects run in a savepoint: kept when
    applied or kept as a conflict, undone when rejected, retried or failed. Its log row and
    `last_seq` come after it, so a rejected mutation is remembered without effects."""
    device_id = batch.device.id
    if seq <= batch.last_seq:
        return _replay(session, batch, seq, mutation_id)
    if seq in batch.logged_ahead:
        # The log holds this seq although last_seq is behind it (a database restored
        # inconsistently): answer from the log and move last_seq up, never fail forever.
        batch.last_seq = seq
        return _replay(session, batch, seq, mutation_id)
    now = clock.now()
    savepoint = session.begin_nested()
    try:
        status, reason, details = _decide(session, clock, policy, batch, mutation_id,
                                          type_, job_id, args, at, offset)
    except Exception:
        # Logged and answered for: the earlier mutations of the batch still commit.
        log.exception("push: mutation %s (seq %s, device %s) failed", type_, seq, device_id)
        savepoint.rollback()
        _unlocked(batch, job_id)
        return _result(seq, RETRY, SERVER_ERROR)
    if status in (APPLIED, CONFLICT, DUPLICATE):
        savepoint.commit()
    else:  # a rejected mutation leaves nothing but its log row
        savepoint.rollback()
        _unlocked(batch, job_id)
    # Stored in the log and sent back: what the client sent, echoed in the details of a
    # refusal, must be strict JSON and storable text (no NaN, NUL or lone surrogate).
    if details and value_problem(details):
        details = printable(details, limit=500)
    if status == RETRY:
        return _result(seq, RETRY, reason, details)
    log_id = _log_id(device_id, seq, mutation_id, status, reason)
    record = MutationRecord(device_id=device_id, seq=seq, mutation_id=log_id,
                            type=printable(str(type_), 32),
                            job_id=job_id if isinstance(job_id, str)
                            and _UUID.match(job_id) else None, status=status,
                            reason=reason, details=details,
                            device_at=_safe_at(at), processed_at=now)
    batch.records[seq] = record
    if log_id == mutation_id:  # a later copy in this batch is a duplicate of it
        batch.ids[mutation_id] = (record, batch.user.id)
    batch.last_seq = seq
    result = _result(seq, status, reason, details)
    if status == DUPLICATE:  # same shape as a replayed seq's answer
        result["original_status"] = details["original_status"]
    return result


def _unlocked(batch: _Batch, job_id) -> None:
    """Row locks taken after a savepoint go with it when it is rolled back."""
    if isinstance(job_id, str):  # a hostile job_id (a list) was never locked
        batch.locked.discard(job_id)


def _safe_at(at):
    try:
        return _parse_at(at)
    except MutationInvalid:
        return None


def _result(seq, status, reason=None, details=None) -> dict:
    out = {"seq": seq, "status": status}
    if reason:
        out["reason"] = reason
    if details:
        out["details"] = details
    return out


def _log_id(device_id, seq, mutation_id, status, reason=None) -> str:
    """The mutation log's `mutation_id` for this (device, seq): the mutation's own id, except
    for an id that is not a UUID, for a mutation that is already in the log under another
    registration of the user's phone (a `duplicate`; its id is taken by the first record), and
    for an id another user's mutation holds. Those get a key derived from the device and seq
    that fits the 36-character column."""
    if not isinstance(mutation_id, str) or not _UUID.match(mutation_id):
        return "invalid:" + hashlib.sha256(f"{device_id}:{seq}".encode()).hexdigest()[:28]
    if status == DUPLICATE:
        return _derived_id("dup:", device_id, seq, mutation_id)
    if reason == ID_TAKEN:
        return _derived_id("tkn:", device_id, seq, mutation_id)
    return mutation_id


def _derived_id(prefix, device_id, seq, mutation_id) -> str:
    return prefix + hashlib.sha256(f"{device_id}:{seq}:{mutation_id}".encode()).hexdigest()[:32]


def _same_mutation(record: MutationRecord, device_id, seq, mutation_id) -> bool:
    held = record.mutation_id
    return (held == mutation_id or held.startswith("invalid:")
            or held in (_derived_id("dup:", device_id, seq, mutation_id),
                        _derived_id("tkn:", device_id, seq, mutation_id)))


def _replay(session, batch: _Batch, seq, mutation_id) -> dict:
    device_id = batch.device.id
    record = batch.records.get(seq) or session.execute(select(MutationRecord).where(
        MutationRecord.device_id == device_id, MutationRecord.seq == seq)).scalar_one_or_none()
    if record is None:  # processed before the log existed for it: nothing to add
        answer = _result(seq, DUPLICATE)
    elif isinstance(mutation_id, str) and not _same_mutation(record, device_id, seq,
                                                               mutation_id):
        # Same seq, different mutation: the device reused a seq it had already spent.
        answer = _result(seq, REJECTED, "seq_reused", {"seq": seq,
                                                       "held_id": record.mutation_id})
    else:
        answer = _duplicate(seq, record)
    return answer


def _duplicate(seq, record: MutationRecord) -> dict:
    out = _result(seq, DUPLICATE, record.reason, record.details)
    # A seq that was itself a duplicate (re-sent under a new registration) points through
    # to the first answer.
    out["original_status"] = (record.details or {}).get("original_status", record.status) \
        if record.status == DUPLICATE else record.status
    return out


def _decide(session, clock, policy, batch: _Batch, mutation_id, type_, job_id, args, at,
            offset=None):
    """Apply one mutation inside the open transaction; return (status, reason, details)."""
    device, user = batch.device, batch.user
    ctx = Ctx(session=session, clock=clock) if policy is None else \
        Ctx(session=session, clock=clock, policy=policy)
    try:
        if not isinstance(mutation_id, str) or not _UUID.match(mutation_id):
            raise MutationInvalid("bad_id", {"id": mutation_id})
        # The same mutation re-sent under another registration of this user's phone. Looked
        # up before its content is checked: whatever it became the first time (even rejected
        # as invalid), it is not processed a second time.
        earlier, owner = batch.ids.get(mutation_id, (None, None))
        if earlier is not None and owner == user.id:
            return DUPLICATE, earlier.reason, {**(earlier.details or {}),
                                               "original_status": earlier.status,
                                               "original_device_id": earlier.device_id}
        # The id is held by another user's mutation: never a coincidence with UUIDs, so a
        # broken or hostile client. Refuse it (the queue moves on) rather than fail forever.
        if earlier is not None:
            raise MutationInvalid(ID_TAKEN, {"id": mutation_id})
        if not isinstance(type_, str) or type_ not in registry.HANDLERS:  # a list is not hashable
            raise MutationInvalid("unknown_type", {"type": type_,
                                                   "allowed": sorted(registry.HANDLERS)})
        device_at = _parse_at(at)
        clean = parse_args(type_, args)
        if not isinstance(job_id, str) or not _UUID.match(job_id):
            raise MutationInvalid("bad_job_id", {"job_id": job_id})
    except MutationInvalid as invalid:
        return REJECTED, invalid.code, invalid.details

    if job_id in batch.locked:  # locked by an earlier mutation of this batch
        job = session.get(Job, job_id)
    else:
        job = session.execute(select(Job).where(Job.id == job_id).with_for_update()
                              ).scalar_one_or_none()
        batch.locked.add(job_id)
    if job is None:
        return REJECTED, "job_not_found", {"job_id": job_id}
    actor = Actor(user=user, device_id=device.id, device_at=device_at,
                  at=time_of_record(device_at, offset, clock.now(),
                                    _previous_move_at(session, job)))

    changed_under_device = _changed_under_device(session, job, user)
    if changed_under_device == "not_yours":
        return REJECTED, "job_not_found", {"job_id": job_id}
    if changed_under_device:
        # Blobs first: a conflict keeps the evidence, so its bytes must be here too.
        for sha in registry.blobs_named(type_, clean):
            try:
                job_service.require_blob(ctx, sha, actor)
            except job_service.BlobMissing as missing:
                return RETRY, "blob_missing", missing.details
            except DomainError as refused:  # not this user's blob to attach
                return REJECTED, refused.code, refused.details
        return _keep_as_conflict(ctx, actor, job, mutation_id, type_, clean, device_at,
                                 changed_under_device)

    handler = registry.HANDLERS[type_]
    try:  # inside the mutation's savepoint: a refusal undoes what the handler wrote
        handler(ctx, actor, job, clean, mutation_id)
    except job_service.BlobMissing as missing:
        return RETRY, "blob_missing", missing.details
    except DomainError as refused:
        return REJECTED, refused.code, refused.details
    return APPLIED, None, None


def _changed_under_device(session, job: Job, user: User):
    """None when the job is the device's to change; else why not ("reassigned",
    "cancelled", "approved") or "not_yours" for a job this user never held."""
    if job.technician_id != user.id:
        held = session.execute(select(JobAssignment.id).where(
            JobAssignment.job_id == job.id, JobAssignment.technician_id == user.id).limit(1)
        ).scalar_one_or_none()
        return "reassigned" if held is not None else "not_yours"
    if job.status == states.CANCELLED:
        return "cancelled"
    if job.status in states.LOCKED:
        return "approved"
    return None


def _keep_as_conflict(ctx, actor, job, mutation_id, type_, clean, device_at, reason):
    session = ctx.session
    stored_args = registry.jsonable(clean)
    conflict = Conflict(job_id=job.id, user_id=actor.id, device_id=actor.device_id,
                        mutation_id=mutation_id, mutation_type=type_, args=stored_args,
                        reason=reason, device_at=device_at, created_at=ctx.now())
    session.add(conflict)
    session.flush()
    job.needs_review = True
    job_service.record_event(ctx, actor, job, "late_evidence", {
        "conflict_id": conflict.id, "mutation_type": type_, "reason": reason})
    job_service.touch(ctx, job)
    return CONFLICT, reason, {"conflict_id": conflict.id, "job_status": job.status}

"""The tamper-evident seal of an approved job: plain functions over plain dicts.

A seal is the SHA-256 of a canonical JSON form (sorted keys, UTF-8, no whitespace, times as
ISO 8601 UTC with a `Z`) of everything signed off: the job's fields, its answers, the hashes of
its photos and signatures, its notes, its events up to and including the approval and the
approving review, together with the previous seal's digest. Each seal names the one before
it, so changing or deleting any sealed record, or any seal, breaks the chain from there on.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Callable, Iterable

# Bump when the payload's shape changes; each seal stores the version it was made with.
# 2 (issue 16): the time of record too (the job's `arrived_at`; `at` on answers, photos,
# signatures, notes and events; a photo's raw `device_at` and `removed_at`).
VERSION = 2
GENESIS = "0" * 64  # the "previous digest" of the first seal in the chain

# The job's own fields that are sealed. Bookkeeping that legitimately changes after sign-off
# (change_seq, updated_at, needs_review: late evidence is still recorded as a conflict) is not.
JOB_FIELDS = ("id", "ref", "type", "status", "status_reason", "customer_id", "contact_name",
              "contact_phone", "address", "product_model", "problem", "channel", "priority",
              "scheduled_start", "scheduled_end", "technician_id", "checklist_template_id",
              "created_by_id", "created_at", "work_started_at", "completed_at", "approved_at")
JOB_FIELDS_SINCE = {2: ("arrived_at",)}


def job_fields(version: int = VERSION) -> tuple[str, ...]:
    """The job's sealed fields in a seal of `version`."""
    return JOB_FIELDS + tuple(name for since, names in sorted(JOB_FIELDS_SINCE.items())
                              if version >= since for name in names)


def _plain(value):
    """Times as ISO UTC; containers recursively; everything else as JSON has it."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def canonical(value) -> bytes:
    """The one byte form a payload is hashed in."""
    return json.dumps(_plain(value), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), allow_nan=False).encode("utf-8")


def canonical_dict(value) -> dict:
    """The payload as plain JSON values (what a JSON column stores unchanged)."""
    return json.loads(canonical(value))


def payload(job: dict, answers: Iterable[dict], photos: Iterable[dict],
            signatures: Iterable[dict], events: Iterable[dict], notes: Iterable[dict] = (),
            review: dict | None = None, version: int = VERSION) -> dict:
    """What a seal covers, in a stable order (rows sorted by their key)."""
    return {
        "version": version,
        "job": {name: job.get(name) for name in job_fields(version)},
        "answers": sorted((dict(a) for a in answers), key=lambda a: a["item_key"]),
        "photos": sorted((dict(p) for p in photos), key=lambda p: p["id"]),
        "signatures": sorted((dict(s) for s in signatures), key=lambda s: s["id"]),
        "notes": sorted((dict(n) for n in notes), key=lambda n: n["id"]),
        "events": sorted((dict(e) for e in events), key=lambda e: e["id"]),
        "review": dict(review) if review else None,
    }


def digest(record: dict, previous_digest: str) -> str:
    """SHA-256 (hex) of the canonical form of the record chained to the previous digest."""
    return hashlib.sha256(canonical({"previous_digest": previous_digest, "record": record})
                          ).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing `verify` found wrong, naming the job."""

    seq: int
    job_id: str
    ref: str | None
    code: str  # record_changed | job_deleted | chain_broken | seq_gap
    detail: str = ""

    def __str__(self) -> str:
        return f"seal #{self.seq} job {self.ref or '?'} ({self.job_id}): {self.code}" + \
            (f": {self.detail}" if self.detail else "")


def verify_chain(seals: list[dict], recompute: Callable[[dict], dict | None]) -> list[Problem]:
    """Check every seal in chain order. `seals` are dicts with seq, job_id, ref, digest,
    previous_digest; `recompute(seal)` answers the record as the database holds it now
    (None when the job is gone). Every mismatch is reported, not only the first."""
    problems: list[Problem] = []
    expected_previous = GENESIS
    expected_seq = 1
    for seal in sorted(seals, key=lambda s: s["seq"]):
        name = dict(seq=seal["seq"], job_id=seal["job_id"], ref=seal.get("ref"))
        if seal["seq"] != expected_seq:
            problems.append(Problem(code="seq_gap", detail=f"expected seal #{expected_seq}",
                                    **name))
        if seal["previous_digest"] != expected_previous:
            problems.append(Problem(code="chain_broken",
                                    detail="previous digest does not match the seal before",
                                    **name))
        record = recompute(seal)
        if record is None:
            problems.append(Problem(code="job_deleted", detail="the sealed job is gone",
                                    **name))
        elif digest(record, seal["previous_digest"]) != seal["digest"]:
            problems.append(Problem(code="record_changed",
                                    detail=describe_change(seal.get("record"), record),
                                    **name))
        expected_previous = seal["digest"]
        expected_seq = seal["seq"] + 1
    return problems


def describe_change(sealed: dict | None, now: dict) -> str:
    """Which parts differ, when the sealed payload was kept (it is, in the seal's row)."""
    if not sealed:
        return "the record no longer matches its digest"
    sealed, now = json.loads(canonical(sealed)), json.loads(canonical(now))
    parts = []
    for section in sorted(set(sealed) | set(now)):
        a, b = sealed.get(section), now.get(section)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            parts.append(f"{section}: {', '.join(keys)}")
        elif isinstance(a, list) and isinstance(b, list):
            parts.append(f"{section}: {len(a)} sealed, {len(b)} now" if len(a) != len(b)
                         else f"{section}: changed")
        else:
            parts.append(f"{section}: changed")
    return "; ".join(parts) or "the seal's digest was changed"

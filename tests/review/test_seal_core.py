"""fieldapp/core/seal.py: canonical form, digest and chain, over plain dicts."""
import hashlib
from datetime import datetime, timedelta, timezone

from fieldapp.core import seal

T = datetime(2026, 11, 24, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def record(**job):
    base = {"id": "j1", "ref": "FA261124-0001", "status": "approved", "created_at": T}
    base.update(job)
    return seal.payload(base, [{"item_key": "b", "value": True}, {"item_key": "a", "value": "是"}],
                        [{"id": "p1", "sha256": "ab" * 32}], [{"id": "s1", "sha256": "cd" * 32}],
                        [{"id": 2, "type": "status"}, {"id": 1, "type": "created"}])


def test_canonical_form_is_sorted_compact_utf8_with_utc_times():
    assert seal.canonical({"b": 1, "a": [T, "中"]}) == \
        '{"a":["2026-11-24T01:00:00.000000Z","中"],"b":1}'.encode("utf-8")


def test_digest_is_sha256_of_the_canonical_form_with_the_previous_digest():
    rec = record()
    expected = hashlib.sha256(seal.canonical({"previous_digest": seal.GENESIS,
                                              "record": rec})).hexdigest()
    assert seal.digest(rec, seal.GENESIS) == expected
    # Row order does not matter; every value does; so does the chain.
    assert [a["item_key"] for a in rec["answers"]] == ["a", "b"]
    assert [e["id"] for e in rec["events"]] == [1, 2]
    assert seal.digest(record(problem="x"), seal.GENESIS) != expected
    assert seal.digest(rec, "1" * 64) != expected
    # The same instant in another offset is the same record.
    assert seal.digest(record(created_at=T.astimezone(timezone.utc)), seal.GENESIS) == expected


def chain(records):
    seals, previous = [], seal.GENESIS
    for n, (job_id, rec) in enumerate(records, start=1):
        d = seal.digest(rec, previous)
        seals.append({"seq": n, "job_id": job_id, "ref": f"R{n}", "digest": d,
                      "previous_digest": previous, "record": rec})
        previous = d
    return seals


def test_verify_chain_intact_and_every_kind_of_break_named():
    recs = {"j1": record(id="j1"), "j2": record(id="j2"), "j3": record(id="j3")}
    seals = chain(recs.items())
    assert seal.verify_chain(seals, lambda s: recs.get(s["job_id"])) == []

    changed = dict(recs, j2=record(id="j2", problem="改过"))
    problems = seal.verify_chain(seals, lambda s: changed.get(s["job_id"]))
    assert [(p.ref, p.code) for p in problems] == [("R2", "record_changed")]
    assert "job: problem" in problems[0].detail

    gone = {k: v for k, v in recs.items() if k != "j3"}
    assert [(p.ref, p.code) for p in seal.verify_chain(seals, lambda s: gone.get(s["job_id"]))
            ] == [("R3", "job_deleted")]

    # A seal removed from the middle: the next one no longer links up.
    without = [s for s in seals if s["seq"] != 2]
    codes = [(p.ref, p.code) for p in seal.verify_chain(without, lambda s: recs[s["job_id"]])]
    assert codes == [("R3", "seq_gap"), ("R3", "chain_broken")]

    # A seal's digest rewritten: it no longer matches, and the next link breaks.
    forged = [dict(s, digest="f" * 64) if s["seq"] == 1 else s for s in seals]
    codes = [(p.ref, p.code) for p in seal.verify_chain(forged, lambda s: recs[s["job_id"]])]
    assert codes == [("R1", "record_changed"), ("R2", "chain_broken")]

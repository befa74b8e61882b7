"""Issue 14, generated: arbitrary JSON in any field of any mutation type never blocks a phone.

For every type in the registry (sync/mutations.py `HANDLERS`, so a new type is covered, or
this test says what it lacks), hypothesis puts an arbitrary JSON value (every type, nesting,
NaN and ±Infinity, lone surrogates, NUL, huge strings, huge integers) into one field of an
otherwise good mutation (or under a new key, or as the whole `args`) and pushes it between two
good notes. Whatever the value:

- the push answers 200 with three results, never a 5xx;
- a value `hostile()` (below, written apart from the server's own check) calls hostile is
  `rejected` `invalid_args`, with `details.field` naming where it sits;
- any other value is applied or refused for a business reason: either is fine, it was a
  possible value; nothing else (no `retry`: every hash the test names is uploaded);
- the good note after it is applied and `last_seq` moves past all three;
- every pull page (from the last cursor: every job that changed), the job as the technician
  gets it and as the office gets it parse with a strict JSON parser (no NaN or Infinity, no
  text without a UTF-8 form).

Bounded: FIELDAPP_HYPOTHESIS_EXAMPLES (default 8) examples per type, on the test database
(SQLite, or PostgreSQL when FIELDAPP_TEST_DATABASE_URL is set).
"""
from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp.core import states
from sync.registry import HANDLERS, SCHEMAS
from sync.values import MAX_STRING, printable
from tests.support.helpers import jpeg_bytes, new_uuid, png_bytes
from tests.support.synckit import Phone, job_of_type, strict_json

EXAMPLES = int(os.environ.get("FIELDAPP_HYPOTHESIS_EXAMPLES", "8"))
UNKNOWN_KEY, WHOLE_ARGS = "<a key no schema has>", "<the whole args>"
ENVELOPE = ("id", "type", "job_id", "at")  # beside `args`, what a mutation carries

# Text of every kind: ordinary, with lone surrogates and control characters (NUL among them),
# and longer than any field takes.
TEXT = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(categories=["Cs", "Cc", "Lu", "Ll", "Lo", "Nd", "So", "Zs"]),
            max_size=8),
    st.sampled_from(["\ud800", "\udfff", "a\x00b", "\ud83d\ude00"[:1], "accepted",
                     "en_route", "repair_result", "replacement"]),
    st.integers(MAX_STRING - 5, MAX_STRING * 6).map("x".__mul__),
)
LEAVES = st.one_of(
    st.none(), st.booleans(),
    st.integers(), st.sampled_from([2 ** 53 + 1, -(2 ** 63), 10 ** 30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf]),
    TEXT,
)
JSON = st.recursive(LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


def hostile(value) -> bool:
    """What no field may hold, wherever it sits: a number JSON cannot write, text with no
    UTF-8 form or that PostgreSQL refuses, text longer than any field takes."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        return ("\x00" in value or len(value) > MAX_STRING
                or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value))
    if isinstance(value, list):
        return any(map(hostile, value))
    if isinstance(value, dict):
        return any(hostile(k) or hostile(v) for k, v in value.items())
    return False


class World:
    """tech1's repair job in progress, the blobs and the receipt the good args name."""

    def __init__(self, phone: Phone):
        self.phone = phone
        self.job = job_of_type(phone, "repair")
        self.photo = phone.upload(jpeg_bytes(901), "image/jpeg")
        self.signature = phone.upload(png_bytes(902))
        self.receipt_id = new_uuid()
        moves = [phone.status(self.job["id"], s) for s in ("en_route", "on_site", "in_progress")]
        receipt = phone.mutation("takeback.receipt", self.job["id"], self.receipt(
            self.receipt_id))
        self.photo_id = new_uuid()  # the photo `photo.remove` takes back
        attach = phone.mutation("photo.attach", self.job["id"], {
            "photo_id": self.photo_id, "sha256": self.photo, "item_key": "damage_photo"})
        answer = phone.push(moves + [receipt, attach])
        assert {r["status"] for r in answer["results"]} == {"applied"}, answer
        self.last_seq = answer["last_seq"]
        self.cursor = ""

    def receipt(self, receipt_id: str) -> dict:
        return {"receipt_id": receipt_id, "items": ["sofa", {"name": "cushion", "quantity": 2}],
                "condition": "scratched", "signature_sha256": self.signature}

    def good_args(self, type_: str) -> dict:
        """A good `args` of each type, made fresh (new ids each time)."""
        bases = {
            "job.status": lambda: {"status": states.IN_PROGRESS, "reason": "r"},
            "checklist.answer": lambda: {"item_key": "repair_result", "value": "fixed"},
            "job.note": lambda: {"text": "fine"},
            "photo.attach": lambda: {"photo_id": new_uuid(), "sha256": self.photo,
                                     "caption": "c", "lat": 31.2, "lng": 121.5},
            "signature.capture": lambda: {"signature_id": new_uuid(),
                                          "sha256": self.signature, "signer_name": "陈女士",
                                          "signer_relation": "customer"},
            "parts.request": lambda: {"request_id": new_uuid(), "part_name": "hinge",
                                      "quantity": 1, "kind": "replacement",
                                      "reason": "broken", "photo_sha256s": [self.photo]},
            "takeback.receipt": lambda: self.receipt(new_uuid()),
            "photo.remove": lambda: {"photo_id": self.photo_id},
            "takeback.return": lambda: {"receipt_id": self.receipt_id,
                                        "signature_sha256": self.signature,
                                        "receipt_retrieved": True},
        }
        missing = sorted(set(HANDLERS) - set(bases))
        assert not missing, f"give {missing} a good args here so they are covered"
        return bases[type_]()

    def assert_everything_parses(self, api) -> None:
        while True:
            page = strict_json(self.phone.pull_raw(self.cursor))
            self.cursor = page["cursor"]
            if not page["has_more"]:
                break
        # The job as the technician gets it and as the office does (conflicts, audit trail).
        strict_json(self.phone.client.get(f"/api/v1/jobs/{self.job['id']}",
                                          headers=self.phone.headers))
        strict_json(api.get(f"/api/v1/jobs/{self.job['id']}", as_="dispatcher1"))


def poisoned(world: World, type_: str, field: str, value, key: str) -> tuple[dict, str]:
    """A good mutation of `type_` with `value` put into `field`; and where it sits."""
    args = world.good_args(type_)
    if field.startswith("<envelope "):  # the value goes beside the args
        return args, ""
    if field == WHOLE_ARGS:
        return value, ""
    if field == UNKNOWN_KEY:
        args[key] = value
        return args, printable(key)
    args[field] = value
    return args, field


@pytest.mark.parametrize("type_", sorted(HANDLERS))
def test_any_value_in_any_field_never_blocks_the_queue(type_, app, api, tech1):
    world = World(tech1)
    fields = sorted(SCHEMAS[type_].fields) + [UNKNOWN_KEY, WHOLE_ARGS] + [
        f"<envelope {name}>" for name in ENVELOPE]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(field=st.sampled_from(fields), value=JSON, key=TEXT.filter(lambda k: k not in fields))
    def push_it(field, value, key):
        phone = world.phone
        phone.seq = world.last_seq  # where the server is, even after a failed example
        job_id = world.job["id"]
        before = phone.note(job_id, "before")
        args, path = poisoned(world, type_, field, value, key)
        bad = phone.mutation(type_, job_id, args)
        envelope = field.removeprefix("<envelope ").removesuffix(">")
        if envelope in ENVELOPE:
            bad[envelope] = value
        after = phone.note(job_id, "after")
        response = phone.push_hostile([before, bad, after])
        assert response.status_code == 200, response.get_data()[:500]
        answer = strict_json(response)
        world.last_seq = answer["last_seq"]
        first, result, last = answer["results"]
        assert first["status"] == last["status"] == "applied", answer
        assert answer["last_seq"] == after["seq"]
        if envelope in ENVELOPE:  # refused under its own reason (bad_at, bad_id, ...)
            assert result["status"] in (("rejected",) if hostile(value) else
                                        ("applied", "rejected")), result
        elif hostile({key: value} if field == UNKNOWN_KEY else value):
            assert (result["status"], result["reason"]) == ("rejected", "invalid_args"), result
            if field != WHOLE_ARGS and not hostile(key if field == UNKNOWN_KEY else ""):
                assert result["details"]["field"].startswith(path), (path, result)
        else:
            assert result["status"] in ("applied", "rejected"), result
        world.assert_everything_parses(api)

    push_it()

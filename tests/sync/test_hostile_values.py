"""Issue 14, the sync side: one hostile value in a push is refused for that mutation alone, and
nothing the server sends back is JSON a strict parser refuses. (The same, generated over every
mutation type and field: test_hostile_properties.py.)"""
from __future__ import annotations

import math

import pytest
from flask import jsonify

from tests.support.synckit import Phone, counts, device_last_seq, job_of_type, strict_json

NAN, INF = float("nan"), float("inf")


def push_between_notes(phone: Phone, job_id: str, hostile: dict) -> list[dict]:
    """A good note, the hostile mutation (made just before), a good note: the answer's three
    results."""
    first = hostile["seq"]
    before = phone.note(job_id, "before", seq=first)
    hostile["seq"] = first + 1
    phone.seq = first + 1
    batch = [before, hostile, phone.note(job_id, "after")]
    response = phone.push_hostile(batch)
    assert response.status_code == 200, response.get_data()
    answer = strict_json(response)
    assert answer["last_seq"] == batch[-1]["seq"]
    return answer["results"]


def assert_refused_alone(results, field: str, reason: str = "invalid_args") -> dict:
    before, bad, after = results
    assert before["status"] == after["status"] == "applied", results
    assert bad["status"] == "rejected", results
    assert bad["reason"] == reason, bad
    if reason == "invalid_args":
        assert bad["details"]["field"] == field, bad
    return bad


def assert_pulls_parse(phone: Phone) -> dict:
    jobs = {}
    cursor = ""
    while True:
        page = strict_json(phone.pull_raw(cursor))
        jobs.update({j["id"]: j for j in page["changes"]["jobs"]})
        cursor = page["cursor"]
        if not page["has_more"]:
            return jobs


@pytest.fixture
def delivery(tech1):
    return job_of_type(tech1, "delivery")  # has a number item and a choice item


@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_a_non_finite_number_answer_is_refused_alone(tech1, delivery, value):
    results = push_between_notes(tech1, delivery["id"],
                                 tech1.answer(delivery["id"], "pieces_delivered", value))
    bad = assert_refused_alone(results, "value")
    assert bad["details"]["problem"] == "non_finite_number"
    pulled = assert_pulls_parse(tech1)[delivery["id"]]
    assert "pieces_delivered" not in pulled["answers"]
    assert {"before", "after"} <= {n["text"] for n in pulled["notes"]}


def test_a_number_as_text_and_text_as_number_are_refused(tech1, delivery, job):
    results = push_between_notes(tech1, delivery["id"],
                                 tech1.answer(delivery["id"], "pieces_delivered", "3"))
    assert_refused_alone(results, None, reason="number_needed")
    results = push_between_notes(tech1, job["id"],
                                 tech1.answer(job["id"], "repair_result", 12))
    assert_refused_alone(results, None, reason="text_needed")


@pytest.mark.parametrize("value", [{"value": "accepted"}, ["accepted"], True, 1])
def test_an_object_or_list_as_a_choice_is_refused_alone(tech1, delivery, value):
    results = push_between_notes(tech1, delivery["id"],
                                 tech1.answer(delivery["id"], "customer_inspection", value))
    assert_refused_alone(results, None, reason="not_an_option")
    assert_pulls_parse(tech1)


@pytest.mark.parametrize("text, problem", [
    ("half an emoji \ud83d", "lone_surrogate"),
    ("\udc00 low first", "lone_surrogate"),
    ("nul \x00 inside", "nul_byte"),
    ("x" * 200_000, "too_long"),
])
def test_hostile_text_in_a_note_is_refused_alone(app, tech1, job, text, problem):
    results = push_between_notes(tech1, job["id"], tech1.note(job["id"], text))
    bad = assert_refused_alone(results, "text")
    assert bad["details"]["problem"] == problem
    assert device_last_seq(app, tech1.device_id) == tech1.seq
    assert_pulls_parse(tech1)


def test_hostile_text_deep_inside_args_and_in_keys_is_named(tech1, job):
    items = [{"name": "leg", "quantity": 1}, {"name": {"deep": ["ok", "\ud800"]}}]
    receipt = tech1.mutation("takeback.receipt", job["id"], {
        "receipt_id": "0b7ad5c6-9d0e-4bb4-8f0e-1c2d3e4f5a6b", "items": items,
        "condition": "ok", "signature_sha256": "a" * 64})
    bad = assert_refused_alone(push_between_notes(tech1, job["id"], receipt),
                               "items[1].name.deep[1]")
    assert bad["details"]["problem"] == "lone_surrogate"

    keyed = tech1.answer(job["id"], "repair_result", "fine")
    keyed["args"]["bad\ud800key"] = 1
    bad = assert_refused_alone(push_between_notes(tech1, job["id"], keyed), "bad\\ud800key")
    assert bad["details"]["problem"] == "lone_surrogate"


def test_hostile_envelope_values_are_echoed_safely(tech1, job):
    """`type`, `at` and `id` are echoed back in a refusal and kept in the mutation log: a NaN
    or a lone surrogate there must neither fail the push nor come back as such."""
    cases = [({"type": NAN}, "unknown_type"), ({"type": "job.\ud800"}, "unknown_type"),
             ({"at": INF}, "bad_at"), ({"at": "2026-11-24T10:00:00\x00"}, "bad_at"),
             ({"at": "0001-01-01T00:00:00+14:00"}, "bad_at"),
             ({"id": {"x": NAN}}, "bad_id")]
    for change, reason in cases:
        hostile = tech1.note(job["id"], "note")
        hostile.update(change)
        results = push_between_notes(tech1, job["id"], hostile)
        assert_refused_alone(results, None, reason=reason)
    # The log answers a replay of the whole queue with the same, still strict, JSON.
    first = tech1.note(job["id"], "x", seq=1)
    replay = strict_json(tech1.push_hostile([first]))
    assert replay["results"][0]["status"] in ("duplicate", "rejected")


def test_a_bad_seq_is_answered_as_strict_json(tech1):
    response = tech1.push_hostile([{"seq": NAN, "id": "x", "type": "job.note"}])
    assert response.status_code == 400
    assert strict_json(response)["error"] == "bad_seq"


def test_nothing_hostile_stored_on_the_phones_own_jobs(app, tech1, job):
    """Every refusal above stored nothing: no answer, note or event for the bad mutation."""
    before = counts(app, job["id"])
    push_between_notes(tech1, job["id"], tech1.answer(job["id"], "repair_result", "\x00"))
    after = counts(app, job["id"])
    assert after["notes"] == before["notes"] + 2
    assert after["answers"] == before["answers"]


def test_the_app_never_writes_nan(app):
    with app.test_request_context():
        with pytest.raises(ValueError):
            jsonify({"value": math.nan}).get_data()
        with pytest.raises(ValueError):
            app.json.dumps([math.inf])

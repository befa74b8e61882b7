"""POST /api/v1/sync/push, example by example: replays, lost answers, gaps, poison
mutations, retry on a missing blob, conflicts, the completion rule."""
from __future__ import annotations

import pytest

from tests.support.synckit import (Phone, approve, complete_job, counts, device_last_seq,
                                   evidence_mutations, job_detail, job_of_type, job_row,
                                   jpeg_bytes, new_uuid, png_bytes, sha, statuses, tech_jobs,
                                   templates_by_id)

# A mutation's transaction must start with the device lock (BEGIN IMMEDIATE on SQLite): the
# warning that the lock's execution options were ignored is a failure here.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SAWarning")


def mixed_batch(phone, job, seed=1):
    """A note, an answer, a photo (blob uploaded) and a status move."""
    digest = phone.upload(jpeg_bytes(seed), "image/jpeg")
    return [phone.note(job["id"], f"note {seed}"),
            phone.answer(job["id"], "id_before_entry", True),
            phone.photo(job["id"], digest, item_key="damage_photo"),
            phone.status(job["id"], "en_route")]


# --- 1. replay ------------------------------------------------------------------------------

def test_replayed_push_changes_nothing(app, tech1, job):
    batch = mixed_batch(tech1, job)
    batch.append(tech1.status(job["id"], "completed"))  # rejected: en_route -> completed
    first = tech1.push(batch)
    assert [r["status"] for r in first["results"]] == ["applied"] * 4 + ["rejected"]
    assert first["last_seq"] == 5
    before = counts(app)
    before_job = job_row(app, job["id"])

    second = tech1.push(batch)

    assert second["last_seq"] == 5
    assert [r["seq"] for r in second["results"]] == [1, 2, 3, 4, 5]
    for old, new in zip(first["results"], second["results"]):
        assert new["status"] == "duplicate"
        assert new["original_status"] == old["status"]
        assert new.get("reason") == old.get("reason")
        assert new.get("details") == old.get("details")
    assert counts(app) == before
    assert job_row(app, job["id"]) == before_job
    assert device_last_seq(app, tech1.device_id) == 5


def test_same_seq_with_another_id_is_not_applied(app, tech1, job):
    tech1.push([tech1.note(job["id"], "first")])
    before = counts(app)
    answer = tech1.push([tech1.note(job["id"], "impostor", seq=1)])
    assert answer["results"][0]["status"] == "rejected"
    assert answer["results"][0]["reason"] == "seq_reused"
    assert answer["last_seq"] == 1
    assert counts(app) == before


def test_same_mutation_twice_in_one_batch_applies_once(app, tech1, job):
    mutation = tech1.note(job["id"], "once")
    before = counts(app)
    answer = tech1.push([mutation, mutation])
    assert [r["status"] for r in answer["results"]] == ["applied", "duplicate"]
    assert counts(app)["notes"] == before["notes"] + 1


@pytest.mark.parametrize("bad", [0, -1, "1", True, None, 1.5])
def test_a_mutation_without_a_valid_seq_refuses_the_whole_batch(app, tech1, job, bad):
    before = counts(app)
    response = tech1.push_raw([tech1.note(job["id"], "fine"),
                               dict(tech1.note(job["id"], "bad"), seq=bad)])
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_seq"
    assert counts(app) == before
    assert device_last_seq(app, tech1.device_id) == 0


def test_push_for_another_device_is_refused(app, client, tech1, job):
    other = Phone(client, "tech1", name="other phone")
    response = tech1.push_raw([tech1.note(job["id"], "x")], device_id=other.device_id)
    assert response.status_code == 403
    assert response.get_json()["error"] == "device_mismatch"
    assert device_last_seq(app, other.device_id) == 0
    assert device_last_seq(app, tech1.device_id) == 0


def test_device_time_is_recorded_but_never_orders(app, api, tech1, job):
    """`at` is the phone's clock (set wrong here: seq 2 claims to be a day before seq 1):
    kept on the audit trail, never used to order."""
    answer = tech1.push([tech1.answer(job["id"], "repair_result", "first",
                                      at="2026-11-24T10:00:00+08:00"),
                         tech1.answer(job["id"], "repair_result", "second",
                                      at="2026-11-23T10:00:00Z")])
    assert statuses(answer) == {1: "applied", 2: "applied"}
    detail = job_detail(api, job["id"])
    assert detail["answers"]["repair_result"]["value"] == "second"
    events = [e for e in detail["events"] if e["type"] == "answer"]
    assert [e["data"]["value"] for e in events] == ["first", "second"]
    assert [e["device_at"] for e in events] == ["2026-11-24T02:00:00Z", "2026-11-23T10:00:00Z"]
    assert all(e["device_id"] == tech1.device_id and e["actor_id"] == tech1.user["id"]
               for e in events)
    assert events[0]["server_at"] == events[1]["server_at"]  # the server's (fixed) clock


# --- 2. lost response, retry ------------------------------------------------------------------

def test_lost_response_then_retry_applies_once(app, api, tech1, job):
    batch = mixed_batch(tech1, job)
    tech1.push(batch)  # the answer never reaches the phone
    after_first = counts(app)

    again = tech1.push(batch)

    assert statuses(again) == {1: "duplicate", 2: "duplicate", 3: "duplicate", 4: "duplicate"}
    assert counts(app) == after_first
    detail = job_detail(api, job["id"])
    assert [n["text"] for n in detail["notes"]] == ["note 1"]
    assert len(detail["photos"]) == 1
    assert list(detail["answers"]) == ["id_before_entry"]
    assert detail["status"] == "en_route"
    kinds = [e["type"] for e in detail["events"] if e["device_id"] == tech1.device_id]
    assert sorted(kinds) == ["answer", "note", "photo", "status"]


def test_partial_retry_overlapping_new_mutations(app, api, tech1, job):
    batch = [tech1.note(job["id"], f"n{i}") for i in range(1, 4)]
    tech1.push(batch)  # seqs 1-3 processed, answer lost
    batch += [tech1.note(job["id"], f"n{i}") for i in range(4, 6)]

    # The phone re-sends from seq 2 (it believes 1 was acknowledged earlier).
    answer = tech1.push(batch[1:])

    assert statuses(answer) == {2: "duplicate", 3: "duplicate", 4: "applied", 5: "applied"}
    assert answer["last_seq"] == 5
    notes = [n["text"] for n in job_detail(api, job["id"])["notes"]]
    assert sorted(notes) == ["n1", "n2", "n3", "n4", "n5"]
    assert counts(app, job["id"])["notes"] == 5


# --- 3. gaps and order -----------------------------------------------------------------------

def test_gap_at_start_answers_409_and_applies_nothing(app, tech1, job):
    tech1.push([tech1.note(job["id"], "one")])
    before = counts(app)
    response = tech1.push_raw([tech1.note(job["id"], "three", seq=3),
                               tech1.note(job["id"], "four", seq=4)])
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "seq_gap"
    assert body["details"] == {"expected_seq": 2}
    assert counts(app) == before
    assert device_last_seq(app, tech1.device_id) == 1


def test_hole_in_the_middle_answers_409_and_applies_nothing(app, tech1, job):
    before = counts(app)
    response = tech1.push_raw([tech1.note(job["id"], "1", seq=1),
                               tech1.note(job["id"], "2", seq=2),
                               tech1.note(job["id"], "4", seq=4)])
    assert response.status_code == 409
    assert response.get_json()["error"] == "seq_gap"
    assert response.get_json()["details"] == {"expected_seq": 3}
    assert counts(app) == before
    assert device_last_seq(app, tech1.device_id) == 0


def test_out_of_order_batch_is_processed_in_seq_order(app, api, tech1, job):
    first = tech1.status(job["id"], "en_route")
    # Legal only after en_route: applied in list order it would be refused.
    second = tech1.status(job["id"], "unsuccessful", reason="顾客不在家")
    answer = tech1.push([second, first])
    assert [r["seq"] for r in answer["results"]] == [1, 2]
    assert statuses(answer) == {1: "applied", 2: "applied"}
    detail = job_detail(api, job["id"])
    assert detail["status"] == "unsuccessful"
    moves = [(e["data"]["from"], e["data"]["to"]) for e in detail["events"]
             if e["type"] == "status"]
    assert moves == [("scheduled", "en_route"), ("en_route", "unsuccessful")]


# --- 4. poison mutations ---------------------------------------------------------------------

def test_poison_mutations_are_rejected_and_do_not_block_the_queue(app, api, client, demo, tech1,
                                                                  job):
    tech2_job = job_of_type(Phone(client, "tech2"), "repair")
    poison = [
        (tech1.mutation("job.teleport", job["id"], {}), "unknown_type"),
        (tech1.mutation("job.note", job["id"], {"text": ""}), "invalid_args"),
        (tech1.mutation("job.note", job["id"], {"txt": "typo"}), "invalid_args"),
        (tech1.mutation("job.note", job["id"], "not an object"), "invalid_args"),
        (tech1.status(job["id"], "cancelled", reason="x"), "forbidden_transition"),
        (tech1.status(job["id"], "completed"), "illegal_transition"),
        (tech1.status(job["id"], "teleported"), "unknown_status"),
        (tech1.answer(job["id"], "no_such_item", True), "unknown_item"),
        (tech1.answer(job["id"], "id_before_entry", "yes"), "check_needs_boolean"),
        (tech1.note(new_uuid(), "unknown job"), "job_not_found"),
        (tech1.note("not-a-uuid", "bad job id"), "bad_job_id"),
        (tech1.note(tech2_job["id"], "not mine"), "job_not_found"),
        (tech1.note(job["id"], "bad id", id="not-a-uuid"), "bad_id"),
        (tech1.note(job["id"], "bad clock", at="yesterday"), "bad_at"),
    ]
    good = tech1.note(job["id"], "after the poison")
    move = tech1.status(job["id"], "en_route")
    before = counts(app)

    answer = tech1.push([m for m, _ in poison] + [good, move])

    results = answer["results"]
    for (mutation, reason), result in zip(poison, results):
        assert result["seq"] == mutation["seq"]
        assert (result["status"], result.get("reason")) == ("rejected", reason), result
    assert results[-2]["status"] == "applied"
    assert results[-1]["status"] == "applied"
    assert answer["last_seq"] == move["seq"]
    after = counts(app)
    assert after["notes"] == before["notes"] + 1
    assert after["answers"] == before["answers"]
    assert job_detail(api, job["id"])["status"] == "en_route"
    other = job_detail(api, tech2_job["id"])
    assert other["notes"] == [] and other["status"] == "scheduled"

    # Replayed, each poison answers duplicate with its original reason.
    replay = tech1.push([m for m, _ in poison])
    for (_, reason), result in zip(poison, replay["results"]):
        assert (result["status"], result["original_status"], result.get("reason")) == \
            ("duplicate", "rejected", reason)


# --- 5. retry on a missing blob --------------------------------------------------------------

def test_missing_blob_answers_retry_and_stops_the_batch(app, api, tech1, job):
    data = jpeg_bytes(7)
    before = counts(app)
    batch = [tech1.note(job["id"], "before"),
             tech1.photo(job["id"], sha(data), item_key="damage_photo"),
             tech1.note(job["id"], "after")]

    answer = tech1.push(batch)

    assert answer["results"] == [
        {"seq": 1, "status": "applied"},
        {"seq": 2, "status": "retry", "reason": "blob_missing",
         "details": {"sha256": sha(data)}}]
    assert answer["last_seq"] == 1
    assert device_last_seq(app, tech1.device_id) == 1
    assert counts(app)["notes"] == before["notes"] + 1
    assert counts(app)["photos"] == before["photos"]
    assert tech1.pull()["last_seq"] == 1

    assert tech1.put_blob(data, content_type="image/jpeg").status_code == 201
    again = tech1.push(batch)

    assert statuses(again) == {1: "duplicate", 2: "applied", 3: "applied"}
    assert again["last_seq"] == 3
    detail = job_detail(api, job["id"])
    assert [p["sha256"] for p in detail["photos"]] == [sha(data)]
    assert sorted(n["text"] for n in detail["notes"]) == ["after", "before"]


# --- 6. conflicts ----------------------------------------------------------------------------

def _late_evidence(phone, job, seed):
    """What a technician records offline: an answer, a note, a photo, a status move."""
    digest = phone.upload(jpeg_bytes(seed), "image/jpeg")
    return [phone.answer(job["id"], "id_before_entry", True),
            phone.note(job["id"], f"late note {seed}"),
            phone.photo(job["id"], digest, item_key="damage_photo"),
            phone.status(job["id"], "en_route")]


def _assert_kept_as_conflicts(api, job, batch, answer, reason, status_before, before_counts,
                              app):
    assert [(r["status"], r["reason"]) for r in answer["results"]] == \
        [("conflict", reason)] * len(batch)
    assert answer["last_seq"] == batch[-1]["seq"]
    detail = job_detail(api, job["id"])
    assert detail["status"] == status_before
    assert detail["needs_review"] is True
    kept = {c["mutation_id"]: c for c in detail["conflicts"]}
    for mutation, result in zip(batch, answer["results"]):
        conflict = kept[mutation["id"]]
        assert result["details"]["conflict_id"] == conflict["id"]
        assert conflict["type"] == mutation["type"]
        assert conflict["reason"] == reason
        for key, value in mutation["args"].items():
            assert conflict["args"][key] == value
    after = counts(app, job["id"])
    # The evidence is kept as conflicts, not applied to the job.
    for table in ("answers", "photos", "notes", "signatures"):
        assert after[table] == before_counts[table], table
    assert after["conflicts"] == before_counts["conflicts"] + len(batch)
    late = [e for e in detail["events"] if e["type"] == "late_evidence"]
    assert len(late) == len(batch)
    # Supervisors see the same evidence.
    assert len(job_detail(api, job["id"], as_="supervisor1")["conflicts"]) == \
        before_counts["conflicts"] + len(batch)


def test_reassigned_job_keeps_late_evidence_as_conflict(app, api, demo, tech1, job):
    first = tech1.pull()
    cursor = first["cursor"]
    tech1.push([tech1.status(job["id"], "en_route")])
    moved = api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1",
                      json={"technician_id": demo["tech2"]})
    assert moved.status_code == 200, moved.get_json()
    status_before = moved.get_json()["status"]
    before = counts(app, job["id"])

    batch = _late_evidence(tech1, job, 31)
    answer = tech1.push(batch)

    _assert_kept_as_conflicts(api, job, batch, answer, "reassigned", status_before, before, app)
    assert job_row(app, job["id"])["technician_id"] == demo["tech2"]
    pulled, _ = tech1.pull_all(cursor)
    removed = [j for page in pulled for j in page["removed"]["jobs"]]
    changed = [j["id"] for page in pulled for j in page["changes"]["jobs"]]
    assert job["id"] in removed and job["id"] not in changed
    # A replay of the late batch keeps nothing twice.
    kept = counts(app, job["id"])
    replay = tech1.push(batch)
    assert {r["original_status"] for r in replay["results"]} == {"conflict"}
    assert counts(app, job["id"]) == kept
    # The technician sees their own conflicts (without the args) when they still can see
    # the job; the new technician's phone gets the job flagged for review.
    tech2 = Phone(api.client, "tech2")
    pulled_by_tech2 = {j["id"]: j for j in tech_jobs(tech2).values()}
    assert pulled_by_tech2[job["id"]]["needs_review"] is True


def test_late_photo_waits_for_its_blob_before_it_is_kept(app, api, demo, tech1, job):
    """A conflict keeps the evidence, so the bytes must be there: a late photo whose blob is
    missing answers retry first, and is kept once the blob is uploaded."""
    api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1",
              json={"technician_id": demo["tech2"]})
    data = jpeg_bytes(35)
    batch = [tech1.photo(job["id"], sha(data), item_key="damage_photo")]
    first = tech1.push(batch)
    assert first["results"][0]["status"] == "retry"
    assert first["last_seq"] == 0
    tech1.upload(data, "image/jpeg")
    second = tech1.push(batch)
    assert (second["results"][0]["status"], second["results"][0]["reason"]) == \
        ("conflict", "reassigned")
    [kept] = job_detail(api, job["id"])["conflicts"]
    assert kept["args"]["sha256"] == sha(data)
    # The office can look at the photo the conflict names.
    assert api.get(f"/api/v1/blobs/{sha(data)}", as_="supervisor1").data == data


def test_cancelled_job_keeps_late_evidence_as_conflict(app, api, tech1, job):
    cursor = tech1.pull()["cursor"]
    cancelled = api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1",
                          json={"status": "cancelled", "reason": "顾客取消"})
    assert cancelled.status_code == 200, cancelled.get_json()
    before = counts(app, job["id"])

    batch = _late_evidence(tech1, job, 41)
    answer = tech1.push(batch)

    _assert_kept_as_conflicts(api, job, batch, answer, "cancelled", "cancelled", before, app)
    pulled, _ = tech1.pull_all(cursor)
    removed = [j for page in pulled for j in page["removed"]["jobs"]]
    changed = [j["id"] for page in pulled for j in page["changes"]["jobs"]]
    assert job["id"] in removed and job["id"] not in changed


def test_approved_job_is_locked_and_late_evidence_is_a_conflict(app, api, tech1, job):
    template = templates_by_id(tech1)[job["checklist_template_id"]]
    complete_job(tech1, job, template)
    approve(api, job["id"])
    locked = job_detail(api, job["id"])
    before = counts(app, job["id"])

    digest = tech1.upload(jpeg_bytes(51), "image/jpeg")
    batch = [tech1.answer(job["id"], "repair_result", "changed my mind"),
             tech1.answer(job["id"], "id_before_entry", False),
             tech1.note(job["id"], "after approval"),
             tech1.photo(job["id"], digest, item_key="damage_photo"),
             tech1.signature(job["id"], tech1.upload(png_bytes(52))),
             tech1.status(job["id"], "in_progress")]
    answer = tech1.push(batch)

    _assert_kept_as_conflicts(api, job, batch, answer, "approved", "approved", before, app)
    detail = job_detail(api, job["id"])
    assert detail["answers"] == locked["answers"]
    assert detail["photos"] == locked["photos"]
    assert detail["signatures"] == locked["signatures"]
    assert detail["notes"] == locked["notes"]
    assert detail["approved_at"] == locked["approved_at"]
    # The office cannot change it either.
    patch = api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1",
                      json={"status": "cancelled", "reason": "x"})
    assert patch.status_code == 409
    assert job_detail(api, job["id"])["status"] == "approved"


# --- 7. the completion rule ------------------------------------------------------------------

def test_completion_refused_names_unmet_items_and_signature(app, api, tech1, job):
    template = templates_by_id(tech1)[job["checklist_template_id"]]
    skipped = {"repair_result", "damage_photo"}
    batch = [tech1.status(job["id"], s) for s in ("en_route", "on_site", "in_progress")]
    batch += evidence_mutations(tech1, job, template, signature=False, skip=skipped)
    batch.append(tech1.status(job["id"], "completed"))
    answer = tech1.push(batch)

    result = answer["results"][-1]
    assert all(r["status"] == "applied" for r in answer["results"][:-1])
    assert result["status"] == "rejected"
    assert result["reason"] == "checklist_incomplete"
    unmet = {u["item_key"]: u for u in result["details"]["unmet"]}
    assert set(unmet) == skipped | {"customer_signature"}
    assert unmet["damage_photo"]["missing"] == "photos"
    assert unmet["customer_signature"]["missing"] == "signature"
    assert answer["last_seq"] == batch[-1]["seq"]
    assert job_detail(api, job["id"])["status"] == "in_progress"

    # With the rest supplied, the same move goes through.
    digest = tech1.upload(jpeg_bytes(61), "image/jpeg")
    done = tech1.push([tech1.answer(job["id"], "repair_result", "扶手已加固"),
                       tech1.photo(job["id"], digest, item_key="damage_photo"),
                       tech1.signature(job["id"], tech1.upload(png_bytes(62))),
                       tech1.status(job["id"], "completed")])
    assert {r["status"] for r in done["results"]} == {"applied"}
    assert job_detail(api, job["id"])["status"] == "completed"


def test_retry_in_a_completion_batch_holds_back_the_completion(app, api, tech1, job):
    """A photo whose blob is not on the server yet waits (retry); the completion queued
    after it is not processed, so the job stays in progress."""
    template = templates_by_id(tech1)[job["checklist_template_id"]]
    missing = jpeg_bytes(71)
    batch = [tech1.status(job["id"], s) for s in ("en_route", "on_site", "in_progress")]
    batch += evidence_mutations(tech1, job, template)
    batch.append(tech1.photo(job["id"], sha(missing), item_key="site_clean_photo"))
    batch.append(tech1.status(job["id"], "completed"))
    answer = tech1.push(batch)
    assert answer["results"][-1]["status"] == "retry"
    assert answer["last_seq"] == batch[-3]["seq"]
    assert job_detail(api, job["id"])["status"] == "in_progress"

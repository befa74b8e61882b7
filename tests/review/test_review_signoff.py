"""Sign-off: who decides, from which status, the lock on approved jobs (API and sync), the
seal and `flask verify`, and rework reaching the phone."""
import pytest
from sqlalchemy import delete, update

from tests.support.helpers import complete_job, jpeg_bytes, new_uuid, sync_push, upload_blob
from tests.support.review_kit import approved_job, get, review, tech_jobs, verify


def error(response, status, code):
    body = response.get_json()
    assert response.status_code == status, body
    assert body["error"] == code, body
    return body


# --- who and when ----------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["dispatcher1", "tech1"])
@pytest.mark.parametrize("decision", ["approve", "rework"])
def test_only_supervisors_and_admins_decide(api, demo, who, decision):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    error(review(api, job["id"], as_=who, decision=decision, comment="x"), 403, "forbidden")
    after = get(api, job["id"])
    assert after["status"] == "completed" and after["review"] is None and after["seal"] is None


@pytest.mark.parametrize("who", ["supervisor1", "admin"])
def test_supervisor_and_admin_approve_and_the_job_is_sealed(api, demo, app, who):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    body = review(api, job["id"], as_=who, decision="approve").get_json()
    assert body["status"] == "approved"
    seal = body["seal"]
    assert len(seal["digest"]) == 64 and seal["seq"] == 1
    assert seal["previous_digest"] == "0" * 64
    assert seal["sealed_at"] == "2026-11-24T01:00:00Z"
    assert seal["verify_url"] == f"/review/verify/{job['id']}"
    assert get(api, job["id"])["seal"] == seal
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "OK: 1 seal(s)" in result.output


@pytest.mark.parametrize("steps", [[], ["on_site"], ["on_site", "in_progress"]])
def test_approve_only_from_completed(api, demo, steps):
    job = tech_jobs(api, demo)["repair"]
    if steps:
        sync_push(api, "tech1", [("job.status", job["id"], {"status": s}) for s in steps])
    before = get(api, job["id"])["status"]
    error(review(api, job["id"], decision="approve"), 409, "illegal_transition")
    after = get(api, job["id"])
    assert after["status"] == before and after["seal"] is None


# --- an approved job takes no more changes ----------------------------------------------------

def test_approved_job_refuses_every_change_through_the_api(api, demo):
    job = approved_job(api, demo)
    jid, events = job["id"], len(job["events"])
    error(api.patch(f"/api/v1/jobs/{jid}", as_="dispatcher1",
                    json={"scheduled_start": "2026-11-30T02:00:00Z"}), 409, "job_closed")
    error(api.patch(f"/api/v1/jobs/{jid}", as_="dispatcher1",
                    json={"technician_id": demo["tech2"]}), 409, "job_closed")
    error(api.patch(f"/api/v1/jobs/{jid}", as_="admin",
                    json={"status": "cancelled", "reason": "x"}), 409, "job_closed")
    error(api.post(f"/api/v1/jobs/{jid}/contact", as_="dispatcher1",
                   json={"outcome": "reached"}), 409, "job_closed")
    error(api.post(f"/api/v1/jobs/{jid}/notes", as_="supervisor1", json={"text": "补充"}),
          409, "job_closed")
    for decision in ("approve", "rework"):
        error(review(api, jid, decision=decision, comment="again"), 409, "illegal_transition")
    after = get(api, jid)
    assert after["status"] == "approved" and len(after["events"]) == events
    assert after["seal"] == job["seal"]


def test_approved_job_turns_late_phone_evidence_into_conflicts(api, demo, app):
    job = approved_job(api, demo)
    jid = job["id"]
    key = next(iter(job["answers"]))
    photo = upload_blob(api, "tech1", jpeg_bytes(4242), "image/jpeg")
    pushed = sync_push(api, "tech1", [
        ("checklist.answer", jid, {"item_key": key, "value": "改了 changed"}),
        ("job.note", jid, {"text": "迟到的备注"}),
        ("photo.attach", jid, {"photo_id": new_uuid(), "sha256": photo}),
        ("job.status", jid, {"status": "in_progress"}),
    ]).get_json()
    assert [r["status"] for r in pushed["results"]] == ["conflict"] * 4
    assert {r["reason"] for r in pushed["results"]} == {"approved"}
    after = get(api, jid)
    assert after["status"] == "approved"
    assert after["answers"] == job["answers"]
    assert after["photos"] == job["photos"] and after["notes"] == job["notes"]
    assert len(after["conflicts"]) == 4  # the evidence is kept for the office
    # Late evidence is recorded beside the seal, not in it: the seal still verifies.
    assert verify(app).exit_code == 0


# --- tampering --------------------------------------------------------------------------------

def tamper(app, *statements):
    from fieldapp.extensions import db

    with app.app_context():
        for stmt in statements:
            db.session.execute(stmt)
        db.session.commit()


def two_sealed(api, demo):
    first = approved_job(api, demo, "repair")
    second = approved_job(api, demo, "delivery", seed=3)
    assert second["seal"]["previous_digest"] == first["seal"]["digest"]
    return first, second


def assert_verify_names(app, job, code="record_changed", only=True):
    result = verify(app)
    assert result.exit_code != 0, result.output
    assert f"job {job['ref']} ({job['id']}): {code}" in result.output, result.output
    mismatches = [line for line in result.output.splitlines() if line.startswith("MISMATCH")]
    if only:
        assert len(mismatches) == 1, result.output
    return result.output


def test_changed_job_field_is_named(api, demo, app):
    from fieldapp.models import Job

    first, second = two_sealed(api, demo)
    tamper(app, update(Job).where(Job.id == first["id"]).values(problem="客户自己弄坏的"))
    output = assert_verify_names(app, first)
    assert "job: problem" in output


def test_changed_answer_value_is_named(api, demo, app):
    from fieldapp.models import ChecklistAnswer

    first, second = two_sealed(api, demo)
    key = next(k for k, a in second["answers"].items() if a["value"] is True)
    tamper(app, update(ChecklistAnswer).where(ChecklistAnswer.job_id == second["id"],
                                              ChecklistAnswer.item_key == key)
           .values(value=False))
    assert "answers" in assert_verify_names(app, second)


def test_added_and_deleted_answers_are_named(api, demo, app):
    from fieldapp.models import ChecklistAnswer

    first, second = two_sealed(api, demo)
    key = next(iter(first["answers"]))
    tamper(app, delete(ChecklistAnswer).where(ChecklistAnswer.job_id == first["id"],
                                              ChecklistAnswer.item_key == key))
    assert_verify_names(app, first)


def test_changed_event_data_is_named(api, demo, app):
    from fieldapp.models import JobEvent

    first, second = two_sealed(api, demo)
    event_id = first["events"][0]["id"]
    tamper(app, update(JobEvent.__table__).where(JobEvent.__table__.c.id == event_id)
           .values(data={"forged": True}))
    assert "events" in assert_verify_names(app, first)


def test_deleted_event_is_named(api, demo, app):
    from fieldapp.models import JobEvent

    first, second = two_sealed(api, demo)
    event_id = second["events"][-1]["id"]
    tamper(app, delete(JobEvent.__table__).where(JobEvent.__table__.c.id == event_id))
    assert_verify_names(app, second)


def test_changed_photo_hash_is_named(api, demo, app):
    from fieldapp.models import Photo

    first, second = two_sealed(api, demo)
    photo = first["photos"][0]
    tamper(app, update(Photo).where(Photo.id == photo["id"])
           .values(sha256=second["photos"][0]["sha256"]))
    assert "photos" in assert_verify_names(app, first)


def test_deleted_sealed_job_is_named(api, demo, app):
    from fieldapp.models import Base, Job

    first, second = two_sealed(api, demo)
    statements = []
    for table in reversed(Base.metadata.sorted_tables):
        if "job_id" in table.c and table.name not in ("seals",):
            statements.append(delete(table).where(table.c.job_id == first["id"]))
    statements.append(delete(Job).where(Job.id == first["id"]))
    tamper(app, *statements)
    assert_verify_names(app, first, "job_deleted")


def test_deleted_or_forged_seal_breaks_the_chain(api, demo, app):
    from fieldapp.models import Seal

    first, second = two_sealed(api, demo)
    tamper(app, update(Seal).where(Seal.job_id == first["id"]).values(digest="0" * 64))
    output = assert_verify_names(app, first, only=False)
    assert f"job {second['ref']} ({second['id']}): chain_broken" in output
    tamper(app, delete(Seal).where(Seal.job_id == first["id"]))
    output = assert_verify_names(app, second, "seq_gap", only=False)
    assert "chain_broken" in output


# --- rework reaches the phone -----------------------------------------------------------------

def pull_job(api, tech, job_id):
    cursor, found = "", None
    while True:
        body = api.get(f"/api/v1/sync/pull?cursor={cursor}", as_=tech).get_json()
        for job in body["changes"]["jobs"]:
            if job["id"] == job_id:
                found = job
        cursor = body["cursor"]
        if not body["has_more"]:
            return found, cursor


def test_rework_comment_reaches_the_phone_on_next_pull(api, demo):
    job = tech_jobs(api, demo)["repair"]
    complete_job(api, job["id"])
    pulled, cursor = pull_job(api, "tech1", job["id"])
    assert pulled["status"] == "completed" and pulled["review"] is None
    response = review(api, job["id"], decision="rework", comment="签名照片模糊,请重新拍摄")
    assert response.status_code == 200, response.get_json()
    body = api.get(f"/api/v1/sync/pull?cursor={cursor}", as_="tech1").get_json()
    [pulled] = [j for j in body["changes"]["jobs"] if j["id"] == job["id"]]
    assert pulled["status"] == "rework"
    assert pulled["review"]["decision"] == "rework"
    assert pulled["review"]["comment"] == "签名照片模糊,请重新拍摄"
    assert pulled["seal"] is None

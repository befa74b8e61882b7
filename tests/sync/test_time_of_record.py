"""Time of record (issue 16): a phone whose clock is three hours behind does an installation
offline from 11:02 to 12:40 (Shanghai) and syncs at 15:17. The job, its answers, photos,
signature and note, the review page, the service report PDF and the on-time KPI all say 11:02
to 12:40, and keep 15:17 as when it arrived. Also: no `sent_at`, hostile `sent_at`,
`photo.remove`, and the phone's storage report on the dispatch board."""
from __future__ import annotations

import importlib.util
import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.support.helpers import ROOT, T0, jpeg_bytes, new_uuid, png_bytes
from tests.support.synckit import Phone, statuses, templates_by_id

BEHIND = timedelta(hours=3)           # the phone's clock is three hours slow
SYNCED = datetime(2026, 11, 24, 7, 17, tzinfo=UTC)          # 15:17 in Shanghai
TRUE = {  # when the technician really did each step (UTC; Shanghai is +8)
    "en_route": datetime(2026, 11, 24, 2, 40, tzinfo=UTC),
    "on_site": datetime(2026, 11, 24, 3, 2, tzinfo=UTC),      # 11:02
    "in_progress": datetime(2026, 11, 24, 3, 5, tzinfo=UTC),  # 11:05
    "completed": datetime(2026, 11, 24, 4, 40, tzinfo=UTC),   # 12:40
}
WINDOW = (datetime(2026, 11, 24, 2, 0, tzinfo=UTC), datetime(2026, 11, 24, 4, 0, tzinfo=UTC))


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def web_client(app, username):
    """A browser session signed in on the web pages (as in tests/review)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": "fieldapp-demo",
                                           "csrf_token": CSRF_RE.search(page).group(1)})
    assert response.status_code == 302
    return client


def z(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def phone_clock(true: datetime) -> str:
    return z(true - BEHIND)


def push(phone: Phone, mutations: list[dict], **extra) -> dict:
    response = phone.client.post("/api/v1/sync/push", headers=phone.headers, json={
        "device_id": phone.device_id, "mutations": mutations, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def job_json(phone: Phone, job_id: str) -> dict:
    response = phone.client.get(f"/api/v1/jobs/{job_id}", headers=phone.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def installation(phone: Phone) -> dict:
    jobs = [j for page in phone.pull_all()[0] for j in page["changes"]["jobs"]]
    return next(j for j in jobs if j["type"] == "installation")


def schedule(app, job_id: str, start: datetime, end: datetime) -> None:
    from fieldapp.extensions import db
    from fieldapp.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        job.scheduled_start, job.scheduled_end = start, end
        db.session.commit()
        db.session.remove()


def offline_installation(phone: Phone, job: dict, template: dict):
    """The whole job as the phone queued it: (mutations, true time of each answer / photo)."""
    mutations, answer_times, photo_times = [], {}, {}
    for step in ("en_route", "on_site", "in_progress"):
        mutations.append(phone.status(job["id"], step, at=phone_clock(TRUE[step])))
    moment = TRUE["in_progress"]
    for index, item in enumerate(template["items"]):
        if not item["required"]:
            continue
        moment += timedelta(minutes=3)
        if item["kind"] == "photo":
            for n in range(item.get("min_photos") or 1):
                digest = phone.upload(jpeg_bytes(500 + index * 10 + n), "image/jpeg")
                mutation = phone.photo(job["id"], digest, item_key=item["key"],
                                       at=phone_clock(moment))
                photo_times[mutation["args"]["photo_id"]] = moment
                mutations.append(mutation)
            continue
        value = {"check": True, "text": "装好了 done", "number": 1,
                 "choice": (item.get("options") or [{}])[0].get("value")}[item["kind"]]
        mutations.append(phone.answer(job["id"], item["key"], value, at=phone_clock(moment)))
        answer_times[item["key"]] = moment
    assert moment < TRUE["completed"]
    signature = phone.upload(png_bytes(77), "image/png")
    mutations.append(phone.signature(job["id"], signature,
                                     at=phone_clock(TRUE["completed"] - timedelta(minutes=5))))
    mutations.append(phone.note(job["id"], "客户满意", at=phone_clock(TRUE["completed"]
                                                                   - timedelta(minutes=2))))
    mutations.append(phone.status(job["id"], "completed", at=phone_clock(TRUE["completed"])))
    return mutations, answer_times, photo_times


@pytest.fixture
def synced_late(app, clock, tech1):
    """The installation done offline by a phone three hours slow, synced at 15:17."""
    job = installation(tech1)
    schedule(app, job["id"], *WINDOW)
    template = templates_by_id(tech1)[job["checklist_template_id"]]
    clock.set(SYNCED)
    mutations, answer_times, photo_times = offline_installation(tech1, job, template)
    answer = push(tech1, mutations, sent_at=phone_clock(SYNCED))
    assert set(statuses(answer).values()) == {"applied"}, answer
    return job, answer_times, photo_times


def test_job_answers_and_evidence_carry_the_true_times(synced_late, tech1):
    job, answer_times, photo_times = synced_late
    done = job_json(tech1, job["id"])
    assert done["status"] == "completed"
    assert done["arrived_at"] == z(TRUE["on_site"])
    assert done["work_started_at"] == z(TRUE["in_progress"])
    assert done["completed_at"] == z(TRUE["completed"])
    assert answer_times and photo_times
    for key, moment in answer_times.items():
        got = done["answers"][key]
        assert got["at"] == z(moment), key
        assert got["received_at"] == z(SYNCED)
        assert got["device_at"] == phone_clock(moment)  # the raw phone clock is kept
    for photo in done["photos"]:
        assert photo["at"] == z(photo_times[photo["id"]])
        assert photo["received_at"] == z(SYNCED)
    assert done["signatures"][0]["at"] == z(TRUE["completed"] - timedelta(minutes=5))
    assert done["notes"][0]["at"] == z(TRUE["completed"] - timedelta(minutes=2))
    assert done["notes"][0]["received_at"] == z(SYNCED)
    moves = [e for e in done["events"] if e["type"] == "status"]
    assert [e["at"] for e in moves[-4:]] == [z(TRUE[s]) for s in
                                              ("en_route", "on_site", "in_progress",
                                               "completed")]
    assert {e["server_at"] for e in moves[-4:]} == {z(SYNCED)}
    # The pull carries the same.
    pulled = installation(tech1)
    assert (pulled["arrived_at"], pulled["completed_at"]) == (z(TRUE["on_site"]),
                                                              z(TRUE["completed"]))


def test_the_device_clock_offset_is_kept_on_the_device(app, synced_late, tech1):
    from fieldapp.extensions import db
    from fieldapp.models import Device

    with app.app_context():
        assert db.session.get(Device, tech1.device_id).clock_offset_ms == \
            BEHIND // timedelta(milliseconds=1)
        db.session.remove()


def test_the_review_page_shows_when_it_happened_and_when_it_synced(app, synced_late):
    job, _, _ = synced_late
    html = web_client(app, "supervisor1").get(f"/review/jobs/{job['id']}?lang=en"
                                              ).get_data(as_text=True)
    for local in ("11-24 10:40", "11-24 11:02", "11-24 11:05", "11-24 12:40"):
        assert local in html, local  # the timeline: when it happened (Shanghai time)
    assert "2026-11-24 11:02" in html and "2026-11-24 12:40" in html  # the job's facts
    assert "15:17" in html  # when it arrived, beside it
    assert "Clock skew" not in html and "时钟偏差" not in html


def test_the_service_report_shows_the_true_times(app, api, synced_late, tmp_path):
    job, _, _ = synced_late
    response = api.get(f"/api/v1/jobs/{job['id']}/report.pdf?lang=en", as_="supervisor1")
    assert response.status_code == 200
    path = tmp_path / "report.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          check=True, text=True).stdout
    assert "2026-11-24 11:02" in text   # arrived on site
    assert "2026-11-24 11:05" in text   # started
    assert "2026-11-24 12:40" in text   # completed


def test_the_on_time_kpi_uses_the_true_arrival(app, synced_late):
    """Arrived 11:02 inside the 10:00-12:00 window: on time. The phone's raw clock (08:02)
    and the sync (15:17) are both outside it."""
    from fieldapp.core import kpis
    from fieldapp.desk.kpis import job_rows, kpi_report
    from fieldapp.extensions import db

    job, _, _ = synced_late
    start, end = T0 - timedelta(days=1), SYNCED + timedelta(days=1)
    with app.app_context():
        row = next(r for r in job_rows(db.session, start, end) if r["id"] == job["id"])
        assert row["first_on_site_at"] == TRUE["on_site"]
        assert kpis.on_time(row) is True
        team = kpi_report(db.session, start, end, "team")["team"]
        db.session.remove()
    assert (team.on_time.num, team.on_time.den) == (1, 1)


def test_without_sent_at_times_are_the_phones_own_within_bounds(app, clock, tech1):
    """An older phone sends no `sent_at`: its `at` is taken as it is (zero offset), but never
    after receipt and never before the job's previous move."""
    job = installation(tech1)
    clock.set(SYNCED)
    right_clock = tech1.status(job["id"], "en_route", at=z(TRUE["en_route"]))
    slow_clock = tech1.status(job["id"], "on_site", at=phone_clock(TRUE["on_site"]))
    fast_clock = tech1.status(job["id"], "in_progress",
                              at=z(SYNCED + timedelta(hours=5)))
    note = tech1.note(job["id"], "no clock")
    note.pop("at")
    answer = push(tech1, [right_clock, slow_clock, fast_clock, note])
    assert set(statuses(answer).values()) == {"applied"}
    done = job_json(tech1, job["id"])
    moves = [e for e in done["events"] if e["type"] == "status"][-3:]
    assert moves[0]["at"] == z(TRUE["en_route"])        # a right clock: the true time
    assert moves[1]["at"] == z(TRUE["en_route"])        # 3 h slow: not before the move before
    assert done["arrived_at"] == z(TRUE["en_route"])
    assert moves[2]["at"] == z(SYNCED)                  # ahead of the server: its receipt
    assert done["work_started_at"] == z(SYNCED)
    assert done["notes"][0]["at"] == z(SYNCED)          # no `at`: when it arrived
    assert moves[1]["device_at"] == phone_clock(TRUE["on_site"])


@pytest.mark.parametrize("sent_at", ["garbage", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
                                     "0001-01-01T00:00:00+14:00", 12345, {"at": 1}, True,
                                     "2026-13-45T99:00:00Z", "\u0000"])
def test_hostile_sent_at_never_fails_and_never_moves_a_time_past_its_receipt(
        app, clock, tech1, sent_at):
    job = installation(tech1)
    clock.set(SYNCED)
    mutations = [tech1.status(job["id"], "en_route", at=phone_clock(TRUE["en_route"])),
                 tech1.note(job["id"], "year one", at="0001-01-01T00:00:00Z"),
                 tech1.note(job["id"], "far future", at="9999-12-31T23:00:00Z"),
                 tech1.note(job["id"], "ordinary", at=phone_clock(TRUE["on_site"]))]
    answer = push(tech1, mutations, sent_at=sent_at)
    assert set(statuses(answer).values()) == {"applied"}, answer
    done = job_json(tech1, job["id"])
    created = datetime.fromisoformat(done["created_at"])
    stamps = [e["at"] for e in done["events"]] + [n["at"] for n in done["notes"]] + \
        [done["arrived_at"], done["work_started_at"], done["completed_at"]]
    for stamp in filter(None, stamps):
        moment = datetime.fromisoformat(stamp)
        assert created <= moment <= SYNCED, (sent_at, stamp)


def test_an_unreadable_at_is_rejected_not_a_server_error(app, clock, tech1):
    job = installation(tech1)
    answer = push(tech1, [tech1.note(job["id"], "x", at="0001-01-01T00:00:00+14:00")],
                  sent_at=z(T0))
    assert answer["results"][0]["status"] == "rejected"
    assert answer["results"][0]["reason"] == "bad_at"


# --- photo.remove ------------------------------------------------------------------------------

def photo_item(template: dict) -> dict:
    return next(i for i in template["items"] if i["kind"] == "photo" and i["required"])


def test_photo_remove_before_completion_keeps_the_record_and_stops_counting(
        app, clock, synced_late, tech1):
    """Taken back on a job sent back for rework, the photo leaves the job, stays on record,
    and the completion rule asks for it again."""
    from fieldapp.extensions import db
    from fieldapp.models import JobEvent, Photo

    job, _, photo_times = synced_late
    done = job_json(tech1, job["id"])
    template = templates_by_id(tech1)[job["checklist_template_id"]]
    item = photo_item(template)
    taken = [p for p in done["photos"] if p["item_key"] == item["key"]]
    # After completion: refused, nothing changes.
    answer = push(tech1, [tech1.mutation("photo.remove", job["id"],
                                         {"photo_id": taken[0]["id"]})])
    assert answer["results"][0]["status"] == "rejected"
    assert answer["results"][0]["reason"] == "job_closed"
    assert len(job_json(tech1, job["id"])["photos"]) == len(done["photos"])

    # Sent back for rework: the technician takes the photo back and the job cannot complete.
    supervisor = Phone(tech1.client, "supervisor1")
    response = tech1.client.post(f"/api/v1/jobs/{job['id']}/review",
                                 headers=supervisor.headers,
                                 json={"decision": "rework", "comment": "照片模糊 blurred"})
    assert response.status_code == 200, response.get_json()
    clock.advance(hours=1)
    back_to_work = tech1.status(job["id"], "in_progress")
    removals = [tech1.mutation("photo.remove", job["id"], {"photo_id": p["id"]})
                for p in taken]
    again = tech1.mutation("photo.remove", job["id"], {"photo_id": taken[0]["id"]})
    unknown = tech1.mutation("photo.remove", job["id"], {"photo_id": new_uuid()})
    answer = push(tech1, [back_to_work, *removals, again, unknown,
                          tech1.status(job["id"], "completed")])
    results = statuses(answer)
    assert list(results.values()) == ["applied"] * (len(taken) + 2) + ["rejected"] * 2, \
        [(r["seq"], r["status"], r.get("reason")) for r in answer["results"]]
    refused = answer["results"][-1]
    assert refused["reason"] == "checklist_incomplete"
    assert item["key"] in str(refused["details"])
    assert answer["results"][-2]["reason"] == "photo_not_found"
    after = job_json(tech1, job["id"])
    assert after["status"] == "in_progress"
    assert {p["id"] for p in after["removed_photos"]} == {p["id"] for p in taken}
    assert not {p["id"] for p in after["photos"]} & {p["id"] for p in taken}
    with app.app_context():
        assert db.session.execute(select(Photo).where(Photo.id == taken[0]["id"])
                                  ).scalar_one().removed_at is not None
        kinds = [e.type for e in db.session.execute(
            select(JobEvent).where(JobEvent.job_id == job["id"])).scalars()]
        db.session.remove()
    assert kinds.count("photo") == len(photo_times)  # taken: still on record
    assert kinds.count("photo_removed") == len(taken)  # and taken back, once each

    # A new photo, and the job completes; after that a removal is refused again.
    retakes = [tech1.photo(job["id"], tech1.upload(jpeg_bytes(901 + n), "image/jpeg"),
                           item_key=item["key"]) for n in range(item.get("min_photos") or 1)]
    answer = push(tech1, [*retakes, tech1.status(job["id"], "completed")])
    assert set(statuses(answer).values()) == {"applied"}, answer
    answer = push(tech1, [tech1.mutation("photo.remove", job["id"],
                                         {"photo_id": retakes[0]["args"]["photo_id"]})])
    assert (answer["results"][0]["status"], answer["results"][0]["reason"]) == \
        ("rejected", "job_closed")


# --- the phone's self-report -------------------------------------------------------------------

def test_the_phones_storage_state_is_kept_and_shown_on_the_board(app, clock, tech1):
    client_state = {"storage": {"persisted": False, "sw": True, "idb": True}, "pending": 4}
    push(tech1, [], sent_at=z(T0), client=client_state)  # nothing to send: still recorded
    desk = web_client(app, "dispatcher1")
    board = desk.get("/dispatch/?lang=en").get_data(as_text=True)
    assert "Offline storage at risk" in board and "storage may be cleared" in board
    assert "4 waiting on the phone" in board
    lanes = desk.get("/dispatch/board.json").get_json()["lanes"]
    lane = next(lane for lane in lanes if lane["technician"]["username"] == "tech1")
    assert lane["client"]["storage"] == client_state["storage"]
    assert lane["client"]["pending"] == 4

    # A hostile or broken report never fails the push and leaves only what it recognises.
    job = installation(tech1)
    answer = push(tech1, [tech1.note(job["id"], "x")], client={
        "storage": {"persisted": "yes", "sw": True, "idb": None, "extra": [1] * 5},
        "pending": -3, "other": {"deep": {"er": 1}}})
    assert set(statuses(answer).values()) == {"applied"}
    for junk in ("not an object", [1, 2], 7, None):
        push(tech1, [], client=junk)
    from fieldapp.extensions import db
    from fieldapp.models import Device

    with app.app_context():
        kept = db.session.get(Device, tech1.device_id).client
        db.session.remove()
    assert kept["storage"] == {"sw": True}
    assert "pending" not in kept and "other" not in kept
    board = desk.get("/dispatch/?lang=en").get_data(as_text=True)
    assert "Offline storage OK" in board


# --- the migration's backfill ------------------------------------------------------------------

def test_the_migration_backfills_from_the_audit_trail(app, clock, tech1):
    """Rows written before the columns existed get their times from the events."""
    from fieldapp.extensions import db

    job = installation(tech1)
    clock.set(SYNCED)
    mutations = [tech1.status(job["id"], s, at=z(TRUE[s]))
                 for s in ("en_route", "on_site", "in_progress")]
    mutations.append(tech1.note(job["id"], "before", at=z(TRUE["in_progress"]
                                                        + timedelta(minutes=1))))
    push(tech1, mutations)
    spec = importlib.util.spec_from_file_location(
        "time_of_record_migration",
        f"{ROOT}/migrations/versions/b16c0a7e2d41_time_of_record.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(migration.jobs.update().values(arrived_at=None, work_started_at=None))
            conn.execute(migration.events.update().values(at=None))
            conn.execute(migration.notes.update().values(at=None))
            migration._backfill(conn)
        db.session.remove()
    done = job_json(tech1, job["id"])
    assert done["arrived_at"] == z(TRUE["on_site"])
    assert done["work_started_at"] == z(TRUE["in_progress"])
    assert done["notes"][0]["at"] == z(TRUE["in_progress"] + timedelta(minutes=1))
    assert all(e["at"] for e in done["events"])


def test_the_seal_covers_the_time_of_record(app, synced_late, tech1):
    """Approved and sealed, the true times cannot be changed unnoticed."""
    from fieldapp.extensions import db
    from fieldapp.models import ChecklistAnswer, Job
    from fieldapp.sealing.service import verify_job

    job, _, _ = synced_late
    supervisor = Phone(tech1.client, "supervisor1")
    response = tech1.client.post(f"/api/v1/jobs/{job['id']}/review", headers=supervisor.headers,
                                 json={"decision": "approve"})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        seal, problems = verify_job(db.session, job["id"])
        assert seal.version == 2 and problems == []
        db.session.get(Job, job["id"]).arrived_at = TRUE["on_site"] - timedelta(hours=1)
        answer = db.session.execute(select(ChecklistAnswer).where(
            ChecklistAnswer.job_id == job["id"])).scalars().first()
        answer.at = answer.at + timedelta(minutes=30)
        db.session.commit()
        _, problems = verify_job(db.session, job["id"])
        db.session.remove()
    assert [p.code for p in problems] == ["record_changed"]
    assert "arrived_at" in problems[0].detail and "answers" in problems[0].detail

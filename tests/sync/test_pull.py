"""GET /api/v1/sync/pull: what a phone gets, page by page, and what it must never get."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.support.database import PG_URL
from tests.support.synckit import (
    Phone,
    approve,
    complete_job,
    job_of_type,
    jpeg_bytes,
    sha,
    templates_by_id,
)


@pytest.fixture
def tech2(client, demo):
    return Phone(client, "tech2")


def server_job_ids(app, technician_id: int) -> set[str]:
    from fieldapp.extensions import db
    from fieldapp.models import Job

    with app.app_context():
        ids = set(db.session.execute(select(Job.id).where(Job.technician_id == technician_id)
                                     ).scalars())
        db.session.remove()
    return ids


def template_count(app) -> int:
    from fieldapp.extensions import db
    from fieldapp.models import ChecklistTemplate

    with app.app_context():
        n = len(db.session.execute(select(ChecklistTemplate.id)).all())
        db.session.remove()
    return n


class Replica:
    """What a phone keeps: the jobs and templates its pulls have given it."""

    def __init__(self):
        self.jobs: dict[str, dict] = {}
        self.templates: dict[str, dict] = {}

    def apply(self, page: dict) -> None:
        for job in page["changes"]["jobs"]:
            self.jobs[job["id"]] = job
        for template in page["changes"]["checklist_templates"]:
            self.templates[template["id"]] = template
        for job_id in page["removed"]["jobs"]:
            self.jobs.pop(job_id, None)


def reschedule(api, job_id: str, hours: int):
    start = datetime(2026, 11, 24, 1, 0) + timedelta(hours=hours)
    response = api.patch(f"/api/v1/jobs/{job_id}", as_="dispatcher1", json={
        "scheduled_start": start.isoformat() + "Z",
        "scheduled_end": (start + timedelta(hours=1)).isoformat() + "Z"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def assert_empty(page: dict) -> None:
    assert page["changes"] == {"jobs": [], "checklist_templates": []}
    assert page["removed"] == {"jobs": []}
    assert page["has_more"] is False


# --- a first pull and an up-to-date one -------------------------------------------------------

def test_empty_cursor_gives_all_own_jobs_and_the_templates(app, demo, tech1):
    page = tech1.pull()
    assert page["has_more"] is False
    assert page["last_seq"] == 0
    assert page["removed"] == {"jobs": []}
    jobs = page["changes"]["jobs"]
    assert {j["id"] for j in jobs} == server_job_ids(app, demo["tech1"])
    assert {j["type"] for j in jobs} == {"delivery", "installation", "repair", "inspection"}
    templates = page["changes"]["checklist_templates"]
    assert len(templates) == 4 == template_count(app)
    assert {t["job_type"] for t in templates} == {"delivery", "installation", "repair",
                                                   "inspection"}
    assert {j["checklist_template_id"] for j in jobs} <= {t["id"] for t in templates}
    for template in templates:
        for item in template["items"]:
            assert item["kind"] in ("check", "photo", "text", "number", "choice")
            assert set(item["label"]) == {"zh-CN", "en"}
    for job in jobs:  # the technician's own, not approved: contact data shown
        assert job["customer"]["phone"] and job["customer"]["address"]


def test_up_to_date_cursor_returns_nothing(app, tech1):
    first = tech1.pull()
    again = tech1.pull(first["cursor"])
    assert_empty(again)
    assert again["cursor"] == first["cursor"]
    # Pulling with an old cursor again (the answer was lost) gives the same changes again.
    repeat = tech1.pull("")
    assert {j["id"] for j in repeat["changes"]["jobs"]} == \
        {j["id"] for j in first["changes"]["jobs"]}


def test_own_change_comes_back_once(app, tech1):
    cursor = tech1.pull()["cursor"]
    job = job_of_type(tech1, "repair")
    tech1.push([tech1.note(job["id"], "on my way")])
    page = tech1.pull(cursor)
    assert [j["id"] for j in page["changes"]["jobs"]] == [job["id"]]
    assert [n["text"] for n in page["changes"]["jobs"][0]["notes"]] == ["on my way"]
    assert page["changes"]["checklist_templates"] == []
    assert_empty(tech1.pull(page["cursor"]))


def test_cursor_ignores_the_clock(app, api, clock, tech1):
    """The cursor is the change counter: a server clock set back still delivers changes."""
    cursor = tech1.pull()["cursor"]
    clock.advance(days=-3)
    job = job_of_type(tech1, "inspection")
    tech1.push([tech1.note(job["id"], "clock went back")])
    page = tech1.pull(cursor)
    assert [j["id"] for j in page["changes"]["jobs"]] == [job["id"]]


# --- paging ---------------------------------------------------------------------------------

def test_paging_walks_every_change_exactly_once(app, tech1):
    full = tech1.pull()
    expected = {("job", j["id"]) for j in full["changes"]["jobs"]} | \
        {("template", t["id"]) for t in full["changes"]["checklist_templates"]}
    assert len(expected) == 8

    pages, cursor = tech1.pull_all("", limit=2)

    seen = []
    for page in pages:
        seen += [("job", j["id"]) for j in page["changes"]["jobs"]]
        seen += [("template", t["id"]) for t in page["changes"]["checklist_templates"]]
        if not PG_URL:  # PostgreSQL: rows of one transaction share a number and a page
            assert len(page["changes"]["jobs"]) + len(page["changes"]["checklist_templates"]) <= 2
    assert sorted(seen) == sorted(expected)  # every change, none twice
    assert [p["has_more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    assert len(pages) == 4 or PG_URL and 1 < len(pages) < 4
    assert cursor == full["cursor"]
    assert_empty(tech1.pull(cursor, limit=2))


def test_job_changed_during_paging_appears_later(app, api, demo, tech1):
    replica = Replica()
    page = tech1.pull("", limit=2)
    replica.apply(page)
    changed = []
    while page["has_more"]:
        page = tech1.pull(page["cursor"], limit=2)
        replica.apply(page)
        if page["changes"]["jobs"] and not changed:
            # A job this phone has just received changes on the server mid-walk...
            seen = page["changes"]["jobs"][0]["id"]
            changed.append(reschedule(api, seen, hours=5))
            # ...and one it has not received yet (if any is left) too.
            rest = server_job_ids(app, demo["tech1"]) - set(replica.jobs)
            for job_id in sorted(rest)[:1]:
                changed.append(reschedule(api, job_id, hours=6))
    assert changed
    for job in changed:
        assert replica.jobs[job["id"]]["scheduled_start"] == job["scheduled_start"]
    # The replica built page by page is what a fresh full pull gives.
    fresh = Replica()
    for p in tech1.pull_all("")[0]:
        fresh.apply(p)
    assert {k: v["updated_at"] for k, v in replica.jobs.items()} == \
        {k: v["updated_at"] for k, v in fresh.jobs.items()}
    assert {k: v["scheduled_start"] for k, v in replica.jobs.items()} == \
        {k: v["scheduled_start"] for k, v in fresh.jobs.items()}
    assert set(replica.templates) == set(fresh.templates)
    assert_empty(tech1.pull(page["cursor"]))


# --- cursors that cannot be trusted ------------------------------------------------------------

@pytest.mark.parametrize("make_cursor", [
    lambda epoch, seq: f"0123456789abcdef.{seq}",          # another database's epoch
    lambda epoch, seq: f"{epoch}.{seq + 10**12}",          # from the future
    lambda epoch, seq: "garbage",
    lambda epoch, seq: f"{epoch}.-3",
    lambda epoch, seq: f"{epoch}.",
], ids=["other-epoch", "future", "garbage", "negative", "no-seq"])
def test_untrusted_cursor_means_full_resync(app, tech1, make_cursor):
    full = tech1.pull()
    epoch, _, seq = full["cursor"].partition(".")
    page = tech1.pull(make_cursor(epoch, int(seq)))
    assert {j["id"] for j in page["changes"]["jobs"]} == \
        {j["id"] for j in full["changes"]["jobs"]}
    assert {t["id"] for t in page["changes"]["checklist_templates"]} == \
        {t["id"] for t in full["changes"]["checklist_templates"]}
    if make_cursor(epoch, int(seq)) == f"{epoch}.{int(seq) + 10**12}":
        # Only a database gone back in time (restored) shows a cursor from the future: that
        # starts a new epoch so every other phone pulls everything again too.
        assert page["cursor"] != full["cursor"]
        assert page["cursor"].partition(".")[2] == seq
        return
    assert page["cursor"] == full["cursor"]


def test_epoch_change_is_a_full_resync(app, tech1):
    """The database was restored or replaced: its epoch differs, old cursors start over."""
    from fieldapp.extensions import db
    from fieldapp.models import Setting
    from sync.pull import EPOCH_KEY

    cursor = tech1.pull()["cursor"]
    with app.app_context():
        db.session.get(Setting, EPOCH_KEY).value = "feedfacefeedface"
        db.session.commit()
        db.session.remove()
    page = tech1.pull(cursor)
    assert len(page["changes"]["jobs"]) == 4
    assert len(page["changes"]["checklist_templates"]) == 4
    assert page["cursor"].startswith("feedfacefeedface.")


# --- access --------------------------------------------------------------------------------

def test_technician_never_sees_another_technicians_jobs(app, api, demo, tech1, tech2):
    mine = {j["id"] for j in tech1.pull()["changes"]["jobs"]}
    theirs_page = tech2.pull()
    theirs = {j["id"] for j in theirs_page["changes"]["jobs"]}
    assert mine == server_job_ids(app, demo["tech1"])
    assert theirs == server_job_ids(app, demo["tech2"])
    assert mine and theirs and not mine & theirs

    # tech2 works on a job: tech1's pull stays empty.
    cursor1 = tech1.pull()["cursor"]
    some = sorted(theirs)[0]
    tech2.push([tech2.note(some, "private"), tech2.status(some, "en_route")])
    assert_empty(tech1.pull(cursor1))

    # A job moves from tech1 to tech2: tech1 gets it in `removed`, tech2 in `changes`.
    cursor2 = tech2.pull()["cursor"]
    moved = sorted(mine)[0]
    patch = api.patch(f"/api/v1/jobs/{moved}", as_="dispatcher1",
                      json={"technician_id": demo["tech2"]})
    assert patch.status_code == 200
    page1 = tech1.pull(cursor1)
    assert page1["removed"]["jobs"] == [moved]
    assert page1["changes"]["jobs"] == []
    page2 = tech2.pull(cursor2)
    assert [j["id"] for j in page2["changes"]["jobs"]] == [moved]
    assert {j["id"] for j in tech1.pull()["changes"]["jobs"]} == mine - {moved}
    # And a later change to it never reaches tech1 again.
    cursor1 = page1["cursor"]
    tech2.push([tech2.note(moved, "mine now")])
    reschedule(api, moved, hours=3)
    assert_empty(tech1.pull(cursor1))
    # Nor can tech1 fetch it through the job API.
    assert api.get(f"/api/v1/jobs/{moved}", as_="tech1").status_code == 404


def test_job_cancelled_before_start_is_removed(app, api, tech1):
    cursor = tech1.pull()["cursor"]
    job = job_of_type(tech1, "delivery")
    response = api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1",
                         json={"status": "cancelled", "reason": "顾客取消"})
    assert response.status_code == 200
    page = tech1.pull(cursor)
    assert page["removed"]["jobs"] == [job["id"]]
    assert page["changes"]["jobs"] == []
    assert job["id"] not in {j["id"] for j in tech1.pull()["changes"]["jobs"]}


def test_approved_job_hides_customer_contact(app, api, tech1):
    job = job_of_type(tech1, "repair")
    template = templates_by_id(tech1)[job["checklist_template_id"]]
    complete_job(tech1, job, template)
    cursor = tech1.pull()["cursor"]
    completed = {j["id"]: j for j in tech1.pull()["changes"]["jobs"]}[job["id"]]
    assert completed["customer"]["phone"] and completed["customer"]["address"]

    approve(api, job["id"])

    page = tech1.pull(cursor)
    [approved] = page["changes"]["jobs"]
    assert approved["id"] == job["id"] and approved["status"] == "approved"
    assert approved["customer"]["phone"] is None
    assert approved["customer"]["address"] is None
    full = {j["id"]: j for j in tech1.pull()["changes"]["jobs"]}
    assert full[job["id"]]["customer"]["phone"] is None
    assert full[job["id"]]["customer"]["address"] is None
    others = [j for j in full.values() if j["id"] != job["id"]]
    assert others and all(j["customer"]["phone"] and j["customer"]["address"] for j in others)
    # The office still sees them.
    office = api.get(f"/api/v1/jobs/{job['id']}", as_="dispatcher1").get_json()
    assert office["customer"]["phone"] and office["customer"]["address"]


# --- last_seq -------------------------------------------------------------------------------

def test_last_seq_is_the_devices_processed_seq(app, client, tech1):
    job = job_of_type(tech1, "repair")
    assert tech1.pull()["last_seq"] == 0
    tech1.push([tech1.note(job["id"], "a"), tech1.status(job["id"], "completed"),  # rejected
                tech1.note(job["id"], "b")])
    assert tech1.pull()["last_seq"] == 3
    # A retry does not count: it is not processed.
    missing = jpeg_bytes(99)
    answer = tech1.push([tech1.photo(job["id"], sha(missing)), tech1.note(job["id"], "c")])
    assert answer["last_seq"] == 3
    assert tech1.pull()["last_seq"] == 3
    # Per device: the same user's other phone has processed nothing.
    other = Phone(client, "tech1", name="second phone")
    assert other.pull()["last_seq"] == 0
    assert tech1.pull()["last_seq"] == 3


# --- the engine directly ------------------------------------------------------------------------

def test_pull_pages_are_bounded_by_one_high_water_mark(app, demo, tech1):
    """sync.pull on its own: the cursor it hands out never runs ahead of the horizon it read,
    an unrelated change (another technician's) leaves an up-to-date cursor where it is, and a
    change of this technician's moves it to that change's number."""
    from fieldapp.accounts.context import Ctx
    from fieldapp.extensions import db
    from fieldapp.jobs import counters
    from fieldapp.jobs import service as job_service
    from fieldapp.models import Device, Job, User
    from sync import pull as pull_engine

    with app.app_context():
        user = db.session.get(User, demo["tech1"])
        device = db.session.get(Device, tech1.device_id)
        now = app.extensions["fieldapp.clock"].now()
        first = pull_engine.pull(db.session, user, device, "", now, limit=500)
        high = counters.current(db.session)
        assert int(first["cursor"].partition(".")[2]) <= high
        db.session.rollback()
        ctx = Ctx(session=db.session, clock=app.extensions["fieldapp.clock"])
        other = db.session.scalars(select(Job).where(Job.technician_id == demo["tech2"])).first()
        job_service.touch(ctx, other)
        db.session.commit()
        second = pull_engine.pull(db.session, user, device, first["cursor"], now)
        assert second["changes"] == {"jobs": [], "checklist_templates": []}
        assert second["cursor"] == first["cursor"]
        db.session.rollback()
        mine = db.session.scalars(select(Job).where(Job.technician_id == demo["tech1"])).first()
        job_service.touch(ctx, mine)
        number = mine.change_seq
        db.session.commit()
        third = pull_engine.pull(db.session, user, device, first["cursor"], now)
        assert [j["id"] for j in third["changes"]["jobs"]] == [mine.id]
        assert third["cursor"].endswith(f".{number}")
        db.session.rollback()
        db.session.remove()

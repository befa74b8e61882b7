"""Recovery from a restore: the server's database (and blob directory) is restored from a
backup taken mid-way, while phones keep working. A phone the restored server does not know
(token unknown: 401) re-registers; a phone whose acknowledged seq is beyond the restored
`last_seq` (its next push looks like a gap) renumbers; both re-send every pending mutation and
pull everything again, and nothing pending is lost or doubled.

The backup is real: SQLite's online backup API on the live file, `pg_dump -Fc` /
`pg_restore --clean` on PostgreSQL (docs/operations.md). `PhoneModel` follows the same rules
as static/app/js/sync.js and outbox.js (the browser side is tests/e2e/test_pwa_restore.py).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess

import pytest

from tests.support.database import PG_URL
from tests.support.helpers import jpeg_bytes, new_uuid, sha
from tests.support.synckit import Phone, counts

AT = "2026-11-24T02:30:00Z"


class PhoneModel:
    """The PWA's sync loop in Python: an outbox of pending mutations numbered per device, a
    pull cursor, the local copy of the jobs, photos waiting for upload."""

    def __init__(self, client, username):
        self.client, self.username = client, username
        self.phone = Phone(client, username)
        self.outbox: list[dict] = []
        self.next_seq = 1
        self.cursor = ""
        self.jobs: dict[str, dict] = {}
        self.blobs: dict[str, bytes] = {}  # bytes not yet known to be on the server
        self.notices: list[dict] = []

    # recording on site
    def record(self, type_, job_id, args) -> dict:
        mutation = {"seq": self.next_seq, "id": new_uuid(), "type": type_, "job_id": job_id,
                    "at": AT, "args": args}
        self.next_seq += 1
        self.outbox.append(mutation)
        return mutation

    def take_photo(self, job_id, seed) -> tuple[str, dict]:
        data = jpeg_bytes(seed)
        self.blobs[sha(data)] = data
        return sha(data), self.record("photo.attach", job_id, {
            "photo_id": new_uuid(), "sha256": sha(data)})

    # the sync loop (sync.js: uploadBlobs, pushOutbox, pull)
    def sync(self) -> None:
        for _ in range(5):
            if self._round() == "ok":
                return
            self._sign_in_again()
        raise AssertionError("the phone never got through")

    def _sign_in_again(self):
        previous = self.phone.device_id
        self.phone.login(previous)  # main.js onSignedIn: sends the old device id
        if self.phone.device_id != previous:
            self.cursor = ""  # a new registration pulls everything again

    def _round(self) -> str:
        for digest, data in list(self.blobs.items()):
            head = self.phone.head_blob(digest)
            if head.status_code == 401:
                return "signin"
            if head.status_code != 200:
                put = self.phone.put_blob(data, content_type="image/jpeg")
                if put.status_code == 401:
                    return "signin"
                assert put.status_code in (200, 201), put.get_json()
            del self.blobs[digest]
        for _ in range(10):
            if not self.outbox:
                break
            response = self.phone.push_raw(self.outbox)
            if response.status_code == 401:
                return "signin"
            if response.status_code == 409:
                assert response.get_json()["error"] == "seq_gap"
                self._renumber(response.get_json()["details"]["expected_seq"])
                # The server lost seqs it had acknowledged: it was restored, so its changes
                # may be numbered anew too. Pull everything again (sync.js does the same).
                self.cursor = ""
                continue
            assert response.status_code == 200, response.get_json()
            for result in response.get_json()["results"]:
                if result["status"] == "retry":
                    missing = result["details"]["sha256"]
                    self.blobs[missing] = self._bytes_of(missing)
                    return self._round()
                original = result.get("original_status", result["status"])
                if original in ("rejected", "conflict"):
                    self.notices.append(result)
                self.outbox = [m for m in self.outbox if m["seq"] != result["seq"]]
        return self._pull()

    def _bytes_of(self, digest):
        for seed in range(20000):  # the phone keeps its photos; the model re-makes them
            if sha(jpeg_bytes(seed)) == digest:
                return jpeg_bytes(seed)
        raise AssertionError(digest)

    def _renumber(self, expected):  # outbox.js renumberFrom
        for n, mutation in enumerate(sorted(self.outbox, key=lambda m: m["seq"])):
            mutation["seq"] = expected + n
        self.next_seq = expected + len(self.outbox)

    def _pull(self) -> str:
        sent_epoch = self.cursor.partition(".")[0]
        seen, fresh = set(), None
        while True:
            response = self.phone.pull_raw(self.cursor, 100)
            if response.status_code == 401:
                return "signin"
            page = response.get_json()
            if fresh is None:  # sync.js: an answer in another epoch is a full snapshot
                fresh = page["cursor"].partition(".")[0] != sent_epoch
            self.outbox = [m for m in self.outbox if m["seq"] > page["last_seq"]]
            for job in page["changes"]["jobs"]:
                self.jobs[job["id"]] = job
                seen.add(job["id"])
            for job_id in page["removed"]["jobs"]:
                self.jobs.pop(job_id, None)
            self.cursor = page["cursor"]
            if not page["has_more"]:
                break
        if fresh:  # jobs the restored server does not give us any more go
            owed = {m["job_id"] for m in self.outbox}
            self.jobs = {k: v for k, v in self.jobs.items() if k in seen or k in owed}
        return "ok"


# --- real backups ----------------------------------------------------------------------------

def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def backup(app, tmp_path) -> str:
    """An online backup of the live database and a copy of the blob directory, in the
    documented order: database first, then blobs (a blob newer than the database is
    harmless; a missing one is re-sent by the phone)."""
    from fieldapp.extensions import db

    target = tmp_path / "backup"
    target.mkdir()
    if PG_URL:
        subprocess.run(["pg_dump", "-Fc", "-f", str(target / "db.dump"), _libpq(PG_URL)],
                       check=True, capture_output=True)
    else:
        with app.app_context():
            live_path = db.engine.url.database
        source, copy = sqlite3.connect(live_path), sqlite3.connect(target / "db.sqlite")
        with copy:
            source.backup(copy)
        source.close()
        copy.close()
    shutil.copytree(app.config["BLOB_ROOT"], target / "blobs")
    return str(target)


def restore(app, target: str) -> None:
    """Stop using the database, put the backup back (database and blobs)."""
    from fieldapp.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        live_path = None if PG_URL else db.engine.url.database
    if PG_URL:
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--single-transaction",
                        "--no-owner", "-d", _libpq(PG_URL), os.path.join(target, "db.dump")],
                       check=True, capture_output=True)
    else:
        source, live = sqlite3.connect(os.path.join(target, "db.sqlite")), sqlite3.connect(
            live_path)
        with live:
            source.backup(live)
        source.close()
        live.close()
    shutil.rmtree(app.config["BLOB_ROOT"])
    shutil.copytree(os.path.join(target, "blobs"), app.config["BLOB_ROOT"])


def server_job(api, job_id):
    response = api.get(f"/api/v1/jobs/{job_id}", as_="dispatcher1")
    assert response.status_code == 200
    return response.get_json()


def notes_of(api, job_id) -> list[str]:
    return sorted(n["text"] for n in server_job(api, job_id)["notes"])


def _scheduled(phone: PhoneModel):
    return sorted((j for j in phone.jobs.values() if j["status"] == "scheduled"),
                  key=lambda j: j["id"])[0]


@pytest.mark.parametrize("restored_command", [True, False],
                         ids=["flask-restored", "detected-by-cursor"])
def test_phones_converge_after_restore_from_an_older_backup(app, api, client, demo, tmp_path,
                                                            restored_command):
    a = PhoneModel(client, "tech1")
    a.sync()
    job = _scheduled(a)["id"]
    a.record("job.note", job, {"text": "N1 before the backup"})
    a.record("job.status", job, {"status": "en_route"})
    a.sync()
    assert not a.outbox

    saved = backup(app, tmp_path)

    # After the backup: acknowledged work the restore will take back ...
    a.record("job.status", job, {"status": "on_site"})
    a.record("job.note", job, {"text": "N2 after the backup, acknowledged"})
    a.sync()
    assert not a.outbox and a.next_seq == 5
    # ... a phone that registers only after the backup ...
    b = PhoneModel(client, "tech2")
    b.sync()
    job_b = _scheduled(b)["id"]
    b.record("job.note", job_b, {"text": "B1 acknowledged"})
    b.sync()
    # ... and an office change.
    assert api.post(f"/api/v1/jobs/{job}/notes", as_="dispatcher1",
                    json={"text": "office note after the backup"}).status_code == 201
    cursor_before_restore = a.cursor

    # The server is down: the phones keep recording.
    a.record("job.note", job, {"text": "N3 pending during the outage"})
    photo_sha, photo = a.take_photo(job, 4711)
    a.record("job.note", job, {"text": "N4 pending during the outage"})
    b.record("job.note", job_b, {"text": "B2 pending during the outage"})
    pending = {m["id"] for m in a.outbox + b.outbox}

    restore(app, saved)
    if restored_command:
        result = app.test_cli_runner().invoke(args=["restored"])
        assert result.exit_code == 0, result.output
        assert "new sync epoch" in result.output
    api.tokens.clear()

    # The restored server: tech1's device is known but behind; tech2's device is unknown.
    assert b.phone.pull_raw("").status_code == 401
    gap = a.phone.push_raw(a.outbox)
    assert gap.status_code == 409 and gap.get_json()["details"]["expected_seq"] == 3
    assert a.phone.head_blob(photo_sha).status_code == 404  # the blob is gone too

    a.sync()
    b.sync()
    assert not a.outbox and not b.outbox and not a.notices and not b.notices
    assert b.phone.device_id is not None

    # Every pending mutation arrived exactly once; the acknowledged-after-backup work is gone
    # with the server's copy (a restore takes back what the backup did not hold).
    assert notes_of(api, job) == ["N1 before the backup", "N3 pending during the outage",
                                  "N4 pending during the outage"]
    assert notes_of(api, job_b) == ["B2 pending during the outage"]
    photos = server_job(api, job)["photos"]
    assert [(p["id"], p["sha256"]) for p in photos] == [(photo["args"]["photo_id"], photo_sha)]
    assert api.get(f"/api/v1/blobs/{photo_sha}", as_="dispatcher1").data == jpeg_bytes(4711)

    # The phones hold exactly the server's view (a full pull after the restore).
    if restored_command:
        assert a.cursor.partition(".")[0] != cursor_before_restore.partition(".")[0]
    assert a.jobs[job]["notes"] == server_job(api, job)["notes"]
    assert a.jobs[job]["status"] == "en_route"
    pulled = {j["id"] for page in a.phone.pull_all("")[0] for j in page["changes"]["jobs"]}
    assert set(a.jobs) == pulled

    # Re-sending (a lost answer, or a second re-registration) doubles nothing.
    before = counts(app)
    again = a.phone.push_raw([{"seq": 3, "id": next(iter(sorted(pending))), "type": "job.note",
                               "job_id": job, "at": AT, "args": {"text": "ignored"}}])
    assert again.status_code == 200
    assert again.get_json()["results"][0]["status"] in ("duplicate", "rejected")
    assert counts(app)["notes"] == before["notes"]
    a.sync()
    b.sync()
    assert counts(app)["notes"] == before["notes"]


def test_a_cursor_from_the_future_starts_a_new_epoch_for_every_phone(app, api, client, demo,
                                                                      tmp_path):
    """Restored without `flask restored`: the first phone whose cursor is beyond the restored
    change counter makes a new epoch, so a second phone (whose cursor would otherwise look
    valid) pulls everything again too."""
    first, second = PhoneModel(client, "tech1"), PhoneModel(client, "tech2")
    first.sync()
    second.sync()
    saved = backup(app, tmp_path)
    job = _scheduled(first)["id"]
    first.record("job.note", job, {"text": "after the backup"})
    first.sync()
    old_epoch = first.cursor.partition(".")[0]
    restore(app, saved)
    answer = first.phone.pull(first.cursor)
    new_epoch = answer["cursor"].partition(".")[0]
    assert new_epoch != old_epoch
    assert answer["changes"]["jobs"] and answer["changes"]["checklist_templates"]
    again = second.phone.pull(second.cursor)
    assert again["cursor"].partition(".")[0] == new_epoch
    assert again["changes"]["jobs"], "the second phone must get everything again"

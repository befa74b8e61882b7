"""The PWA against a server whose SQLite database is restored (for real, with SQLite's online
backup API) from a backup taken while the phone was working: the phone re-registers when its
token is unknown, renumbers when its seq is ahead, re-sends every pending change exactly once
and replaces its jobs with the restored server's (docs/operations.md, docs/sync-protocol.md)."""
from __future__ import annotations

import shutil
import sqlite3

import pytest
from sqlalchemy import select

from tests.e2e.test_pwa_offline import add_note, job_id_for, new_phone, sign_in, wait_synced
from tests.support.browser_kit import shot
from tests.support.database import PG_URL

pytestmark = pytest.mark.browser


def backup(app, tmp_path):
    from fieldapp.extensions import db

    with app.app_context():
        live = db.engine.url.database
    target = tmp_path / "backup.sqlite"
    source, copy = sqlite3.connect(live), sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    shutil.copytree(app.config["BLOB_ROOT"], tmp_path / "blobs-backup")
    return target


def restore(app, tmp_path, target):
    from fieldapp.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
        live = db.engine.url.database
    source, copy = sqlite3.connect(target), sqlite3.connect(live)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    shutil.rmtree(app.config["BLOB_ROOT"])
    shutil.copytree(tmp_path / "blobs-backup", app.config["BLOB_ROOT"])
    result = app.test_cli_runner().invoke(args=["restored"])
    assert result.exit_code == 0, result.output


def notes(app, job_id):
    from fieldapp.extensions import db
    from fieldapp.models import Note

    with app.app_context():
        texts = sorted(t for (t,) in db.session.execute(
            select(Note.text).where(Note.job_id == job_id)))
        db.session.remove()
        return texts


def open_job(page, job_id):
    page.click(f"[data-job='{job_id}'] .card-link")
    page.wait_for_selector(".checklist")


@pytest.fixture
def sqlite_only():
    if PG_URL:
        pytest.skip("the browser tests run on SQLite")


def test_phone_ahead_of_the_restored_server_renumbers_and_repulls(
        sqlite_only, browser, live_server, app, api, demo, tmp_path):
    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "delivery")
    open_job(page, job_id)
    add_note(page, "备份前的记录")
    wait_synced(page)
    saved = backup(app, tmp_path)

    add_note(page, "备份后已确认的记录")
    wait_synced(page)
    # The office gives tech1 a new job after the backup: the restore takes it back.
    extra = api.post("/api/v1/jobs", as_="dispatcher1", json={
        "type": "repair", "customer": {"name": "李女士", "phone": "13912349999",
                                       "address": "上海市长宁区 1 号"},
        "product_model": "餐椅", "problem": "腿松", "channel": "phone"}).get_json()["id"]
    assert api.patch(f"/api/v1/jobs/{extra}", as_="dispatcher1", json={
        "scheduled_start": "2026-11-24T15:00:00+08:00",
        "scheduled_end": "2026-11-24T16:00:00+08:00",
        "technician_id": demo["tech1"]}).status_code == 200
    page.goto(live_server + "/app/#/")
    page.locator("#sync-badge").click()
    page.wait_for_selector(f"[data-job='{extra}']")
    open_job(page, job_id)

    context.set_offline(True)
    add_note(page, "停机期间的记录一")
    add_note(page, "停机期间的记录二")
    restore(app, tmp_path, saved)
    context.set_offline(False)
    page.locator("#sync-badge").click()
    wait_synced(page)

    assert notes(app, job_id) == ["停机期间的记录一", "停机期间的记录二", "备份前的记录"]
    page.goto(live_server + "/app/#/")
    page.wait_for_selector(".job-card")
    page.wait_for_function(f"!document.querySelector(\"[data-job='{extra}']\")")
    shot(page, "pwa-after-restore-zh-390")
    page.locator("#sync-badge").click()  # once more: nothing is sent twice
    wait_synced(page)
    assert notes(app, job_id) == ["停机期间的记录一", "停机期间的记录二", "备份前的记录"]
    context.close()


def test_phone_unknown_to_the_restored_server_signs_in_again_and_resends(
        sqlite_only, browser, live_server, app, demo, tmp_path):
    saved = backup(app, tmp_path)  # before this phone ever registered
    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "installation")
    open_job(page, job_id)
    add_note(page, "已确认但会随恢复丢失")
    wait_synced(page)

    context.set_offline(True)
    add_note(page, "恢复前未发送的记录")
    restore(app, tmp_path, saved)
    context.set_offline(False)
    page.locator("#sync-badge").click()
    page.wait_for_selector("input[name=username]", timeout=30000)  # token unknown: 401
    page.fill("input[name=username]", "tech1")
    page.fill("input[name=password]", "fieldapp-demo")
    page.click("button[type=submit]")
    page.wait_for_selector(".job-card")
    wait_synced(page)
    assert notes(app, job_id) == ["恢复前未发送的记录"]
    page.locator("#sync-badge").click()
    wait_synced(page)
    assert notes(app, job_id) == ["恢复前未发送的记录"]
    context.close()

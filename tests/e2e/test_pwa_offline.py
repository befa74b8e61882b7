"""The technician's PWA in real headless Chromium against a real server: a whole job done
offline (reloaded from the service worker), then synced without a click, exactly once."""
from __future__ import annotations

import random

import pytest
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import func, select

from fieldapp.core import job_types
from fieldapp.messages import MESSAGES
from sync import registry
from tests.support.browser_kit import PHONE, shot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def big_photo(tmp_path_factory) -> str:
    """A real 12-megapixel JPEG (4000x3000) taken with the phone turned: EXIF orientation 6."""
    path = tmp_path_factory.mktemp("photos") / "IMG_12MP.jpg"
    image = Image.effect_noise((4000, 3000), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    image.save(path, "JPEG", quality=85, exif=exif)
    return str(path)


def new_phone(browser, **kwargs):
    return browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai",
                               service_workers="allow", bypass_csp=True, **kwargs)


def sign_in(page, base, username="tech1"):
    page.goto(base + "/app/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "fieldapp-demo")
    page.click("button[type=submit]")
    page.wait_for_selector(".job-card")
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    wait_synced(page)


def wait_synced(page, timeout=60000):
    page.wait_for_function(
        "() => { const b = document.querySelector('#sync-badge');"
        " return b && b.dataset.pending === '0' && b.dataset.state === 'ok'; }", timeout=timeout)


def job_id_for(app, ref_type: str, username="tech1"):
    from fieldapp.extensions import db
    from fieldapp.models import Job, User

    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        return db.session.execute(select(Job.id).where(Job.technician_id == user.id,
                                                       Job.type == ref_type)).scalars().first()


def do_whole_checklist(page, photo_path):
    keys = page.eval_on_selector_all("[data-item]", "els => els.map(e => [e.dataset.item, e.dataset.kind])")
    assert keys, "the checklist should show items"
    for key, kind in keys:
        item = page.locator(f"[data-item='{key}']")
        # Done phases fold away (issue 16): open the item's phase as a technician would.
        item.evaluate("el => { el.closest('details').open = true; }")
        if kind == "check":
            item.locator("button.choice").first.click()
            page.wait_for_selector(f"[data-item='{key}'] button.choice.on", state="attached")
        elif kind == "choice":
            item.locator("button.choice").first.click()
            page.wait_for_selector(f"[data-item='{key}'] button.choice.on", state="attached")
        elif kind == "text":
            item.locator("textarea").fill(f"现场记录 {key}")
            item.locator("button.save").click()
            page.wait_for_function(f"document.querySelector(\"[data-item='{key}'] .req.done\") !== null"
                                   f" || !document.querySelector(\"[data-item='{key}'] .req\")")
        elif kind == "number":
            item.locator("input[type=number]").fill("2")
            item.locator("button.save").click()
        elif kind == "photo":
            before = page.locator(f"[data-item='{key}'] img.thumb").count()
            item.locator("input[type=file]").set_input_files(photo_path)
            page.wait_for_function(
                f"document.querySelectorAll(\"[data-item='{key}'] img.thumb\").length > {before}",
                timeout=30000)
    return keys


def sign_and_complete(page):
    """The sign-off screen: the customer signs, and the same tap completes the job."""
    page.click(".signature-section a.button")
    canvas = page.wait_for_selector("canvas.signature-pad")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]
    page.mouse.move(x + 40, y + 120)
    page.mouse.down()
    for step in range(30):
        page.mouse.move(x + 40 + step * 9, y + 120 + (step % 7) * 12)
    page.mouse.up()
    page.fill("input[name=signer_name]", "周女士")
    page.click("#sign-complete")
    page.wait_for_selector(".done-moment")


def add_note(page, text):
    """Type a note and tap Save in one JS task: a redraw after a background sync cannot fall
    between the two (the app already keeps a redraw off a field being typed in)."""
    page.evaluate("""(text) => {
        const field = document.querySelector('textarea[name=note]');
        field.value = text;
        field.closest('.notes').querySelector('button.save').click(); }""", text)
    page.wait_for_function(
        "(text) => [...document.querySelectorAll('.note')].some(n => n.textContent.startsWith(text))",
        arg=text)


def move(page, to):
    page.click(f"button[data-move='{to}']")
    page.wait_for_function(f"document.querySelector('#job-status') && "
                           f"!document.querySelector(\"button[data-move='{to}']\")")


def server_view(app, job_id):
    from fieldapp.extensions import db
    from fieldapp.models import Blob, ChecklistAnswer, Job, Photo, Signature

    with app.app_context():
        job = db.session.get(Job, job_id)
        photos = db.session.execute(select(Photo).where(Photo.job_id == job_id)).scalars().all()
        return {
            "status": job.status,
            "answers": dict(db.session.execute(select(ChecklistAnswer.item_key, ChecklistAnswer.value)
                                               .where(ChecklistAnswer.job_id == job_id)).all()),
            "photo_shas": sorted(p.sha256 for p in photos),
            "photo_sizes": [(db.session.get(Blob, p.sha256).width, db.session.get(Blob, p.sha256).height)
                            for p in photos],
            "signatures": db.session.execute(select(func.count(Signature.id))
                                             .where(Signature.job_id == job_id)).scalar(),
        }


def test_whole_job_offline_then_sync(browser, live_server, app, big_photo):
    context = new_phone(browser)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server)
    job_id = job_id_for(app, "repair")

    context.set_offline(True)
    page.reload()  # the shell comes from the service worker
    page.wait_for_selector(".job-card")
    assert page.locator("#sync-badge").get_attribute("data-state") == "offline"
    # The job type's name comes from the server's registry (/app/registry.js), precached too.
    assert job_types.BY_KEY["repair"].label["zh-CN"] + " · FA" in \
        page.locator(f"[data-job='{job_id}']").inner_text()
    page.click(f"[data-job='{job_id}'] .card-link")
    page.wait_for_selector(".checklist")
    shot(page, "pwa-job-zh-390")
    for step in ("en_route", "on_site", "in_progress"):
        move(page, step)
    keys = do_whole_checklist(page, big_photo)
    page.click("button[data-move='completed']")  # the sign-off screen: nothing missing
    page.wait_for_selector("#sign-complete")
    assert page.locator("[data-unmet]").count() == 0
    page.go_back()
    sign_and_complete(page)
    page.wait_for_function("document.querySelector('#job-status')?.textContent === '已完工'")
    local_shas = page.evaluate("""async () => {
        const db = await new Promise((ok, ko) => { const r = indexedDB.open('fieldapp'); r.onsuccess = () => ok(r.result); r.onerror = ko; });
        const all = await new Promise((ok) => { const r = db.transaction('blobs').objectStore('blobs').getAll(); r.onsuccess = () => ok(r.result); });
        return all.filter(b => b.type === 'image/jpeg').map(b => b.sha256).sort(); }""")
    # (the badge counts the outbox at most every 150 ms)
    page.wait_for_function("(n) => Number(document.querySelector('#sync-badge').dataset.pending) >= n",
                           arg=len(keys) + 5)
    pending = int(page.locator("#sync-badge").get_attribute("data-pending"))

    # A new tab, still offline, shows all of it, still pending.
    second = context.new_page()
    second.goto(f"{live_server}/app/#/job/{job_id}")
    second.wait_for_selector("#job-status")
    assert second.locator("#job-status").inner_text() == "已完工"
    assert int(second.locator("#sync-badge").get_attribute("data-pending")) == pending
    assert second.locator("img.thumb").count() >= 1
    second.close()
    assert server_view(app, job_id)["status"] == "scheduled"  # nothing reached the server

    # The network comes back: it syncs with no click.
    context.set_offline(False)
    wait_synced(page, timeout=60000)
    server = server_view(app, job_id)
    assert server["status"] == "completed"
    answerable = [k for k, kind in keys if kind != "photo"]
    assert sorted(server["answers"]) == sorted(answerable)
    assert sorted(set(server["photo_shas"])) == local_shas  # the same bytes as on the phone
    assert len(server["photo_shas"]) == sum(1 for _, kind in keys if kind == "photo")
    assert server["signatures"] == 1
    # Resized on the phone to a 2048 px long edge, and turned upright (EXIF orientation 6).
    assert all(size == (1536, 2048) for size in server["photo_sizes"]), server["photo_sizes"]
    assert not errors, errors
    context.close()


def test_dropped_requests_and_responses_store_everything_once(browser, live_server, app):
    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "delivery")
    rng = random.Random(20261124)
    faults = {"dropped_request": 0, "dropped_response": 0}

    def flaky(route):
        roll = rng.random()
        if roll < 0.3:
            faults["dropped_request"] += 1
            route.abort()
        elif roll < 0.6:
            route.fetch()  # the server processes it; the phone never hears back
            faults["dropped_response"] += 1
            route.abort()
        else:
            route.fallback()

    context.route("**/api/v1/sync/**", flaky)
    page.click(f"[data-job='{job_id}'] .card-link")
    page.wait_for_selector(".checklist")
    notes = [f"备注 {i}" for i in range(8)]
    for text in notes:
        add_note(page, text)
        page.locator("#sync-badge").click()  # extra sync rounds through the faulty network
    move(page, "en_route")
    for _ in range(6):
        page.locator("#sync-badge").click()
        page.wait_for_timeout(300)
    context.unroute("**/api/v1/sync/**")
    page.locator("#sync-badge").click()
    wait_synced(page, timeout=60000)
    assert faults["dropped_request"] and faults["dropped_response"], faults

    from fieldapp.extensions import db
    from fieldapp.models import Job, JobEvent, Note

    with app.app_context():
        stored = db.session.execute(select(Note.text).where(Note.job_id == job_id)).scalars().all()
        assert sorted(stored) == sorted(notes)  # each exactly once
        assert db.session.get(Job, job_id).status == "en_route"
        note_events = db.session.execute(select(func.count(JobEvent.id)).where(
            JobEvent.job_id == job_id, JobEvent.type == "note")).scalar()
        assert note_events == len(notes)
    context.close()


def test_reassigned_while_offline_shows_conflict_and_keeps_evidence(browser, live_server, app, api):
    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "inspection")
    context.set_offline(True)
    page.click(f"[data-job='{job_id}'] .card-link")
    page.wait_for_selector(".checklist")
    add_note(page, "床板裂缝约 20 厘米")
    # Meanwhile the dispatcher gives the job to tech2.
    tech2 = api.login("tech2")["user"]["id"]
    response = api.patch(f"/api/v1/jobs/{job_id}", as_="dispatcher1", json={"technician_id": tech2})
    assert response.status_code == 200, response.get_json()
    context.set_offline(False)
    page.wait_for_selector("[data-notice='conflict']", timeout=60000)
    assert "您的记录已保留" in page.locator("[data-notice='conflict']").first.inner_text()
    shot(page, "pwa-conflict-zh-390")
    detail = api.get(f"/api/v1/jobs/{job_id}", as_="dispatcher1").get_json()
    assert detail["needs_review"] is True
    assert any(c["type"] == "job.note" and c["args"]["text"] == "床板裂缝约 20 厘米"
               for c in detail["conflicts"])
    context.close()


def pending_in_outbox(page) -> int:
    return page.evaluate("""async () => {
        const db = await new Promise((ok, ko) => { const r = indexedDB.open('fieldapp'); r.onsuccess = () => ok(r.result); r.onerror = ko; });
        return await new Promise((ok) => { const r = db.transaction('outbox').objectStore('outbox').count(); r.onsuccess = () => ok(r.result); }); }""")


def test_update_is_offered_and_keeps_the_outbox(browser, live_server, app):
    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "repair")
    context.set_offline(True)
    page.click(f"[data-job='{job_id}'] .card-link")
    page.wait_for_selector(".checklist")
    add_note(page, "升级前的记录")
    assert pending_in_outbox(page) == 1
    context.route("**/api/v1/sync/**", lambda route: route.abort())  # keep it pending
    context.set_offline(False)
    app.config["SHELL_VERSION_SALT"] = "next-release"
    page.evaluate("navigator.serviceWorker.getRegistration('/app/').then(r => r.update())")
    page.wait_for_selector("#update-banner:not(.hidden)", timeout=30000)
    shot(page, "pwa-update-offered-zh-390")
    with page.expect_navigation():
        page.click("#update-button")
    page.wait_for_selector("#view")
    assert pending_in_outbox(page) == 1  # the update lost nothing
    version = page.evaluate("""() => new Promise((ok) => {
        navigator.serviceWorker.addEventListener('message', (e) => ok(e.data.version), { once: true });
        navigator.serviceWorker.controller.postMessage('version'); })""")
    with app.test_request_context():
        from fieldapp.faces.phone import shell_version
        assert version == shell_version()
    context.unroute("**/api/v1/sync/**")
    page.locator("#sync-badge").click()
    wait_synced(page)
    context.close()


def test_expired_token_asks_to_sign_in_and_keeps_the_outbox(browser, live_server, app):
    from fieldapp.extensions import db
    from fieldapp.models import Device, Note

    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "installation")
    context.set_offline(True)
    page.click(f"[data-job='{job_id}'] .card-link")
    page.wait_for_selector(".checklist")
    add_note(page, "令牌过期前的记录")
    with app.app_context():  # the office revokes the phone's token meanwhile
        for device in db.session.query(Device).all():
            device.revoked_at = device.created_at
        db.session.commit()
    context.set_offline(False)
    page.wait_for_selector("input[name=username]", timeout=30000)
    assert "请重新登录" in page.locator(".alert").inner_text()
    assert pending_in_outbox(page) == 1
    shot(page, "pwa-signin-again-zh-390")
    page.fill("input[name=username]", "tech1")
    page.fill("input[name=password]", "fieldapp-demo")
    page.click("button[type=submit]")
    page.wait_for_selector(".job-card")
    wait_synced(page)
    with app.app_context():
        texts = db.session.query(Note.text).filter(Note.job_id == job_id).all()
        assert [t for (t,) in texts] == ["令牌过期前的记录"]
    context.close()


def test_seq_gap_resends_from_the_expected_seq(browser, live_server, app):
    """The server lost this device's progress (say, restored from an older backup): the
    phone re-sends from the seq the server expects; nothing is doubled or lost."""
    from fieldapp.extensions import db
    from fieldapp.models import Device, MutationRecord, Note

    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "delivery")
    page.click(f"[data-job='{job_id}'] .card-link")
    page.wait_for_selector(".checklist")
    for text in ("第一条", "第二条"):
        add_note(page, text)
        wait_synced(page)
    context.set_offline(True)
    add_note(page, "第三条")
    with app.app_context():  # restored from a backup taken before this device pushed
        device = db.session.query(Device).one()
        db.session.query(MutationRecord).filter(MutationRecord.device_id == device.id).delete()
        device.last_seq = 0
        db.session.commit()
    context.set_offline(False)
    page.locator("#sync-badge").click()
    wait_synced(page)
    with app.app_context():
        texts = sorted(t for (t,) in db.session.query(Note.text).filter(Note.job_id == job_id))
        assert texts == ["第一条", "第三条", "第二条"]
    context.close()


def test_rejected_change_is_shown_with_its_reason(browser, live_server, app):
    """The server refuses a completion (the checklist is not done): the phone says why, in the
    server's own words (/app/registry.js), which change it was and what is missing."""
    context = new_phone(browser)
    page = context.new_page()
    sign_in(page, live_server)
    job_id = job_id_for(app, "repair")
    page.click(f"[data-job='{job_id}'] .card-link")
    page.wait_for_selector(".checklist")
    for step in ("en_route", "on_site", "in_progress"):
        move(page, step)
    # A stale phone (or an old app version) sends a completion the server must refuse.
    page.evaluate("""async (jobId) => { const { record } = await import('/static/app/js/outbox.js');
        await record('job.status', jobId, { status: 'completed' }); }""", job_id)
    page.wait_for_selector("[data-notice='rejected']", timeout=30000)
    text = page.locator("[data-notice='rejected']").first.inner_text()
    with app.test_request_context(), force_locale("zh"):
        why, what = str(MESSAGES["checklist_incomplete"]), str(registry.TYPES["job.status"].label)
    assert why in text and f"（{what}）" in text and "还缺：" in text and "顾客签字" in text
    wait_synced(page)
    assert page.locator("#job-status").inner_text() == "服务中"  # the server's word stands
    context.close()


def test_blob_storage_falls_back_to_array_buffers(browser, live_server):
    """Where a browser cannot keep Blobs in IndexedDB, the bytes are kept as an ArrayBuffer
    and come back as the same image."""
    context = new_phone(browser)
    page = context.new_page()
    page.goto(live_server + "/app/")
    page.wait_for_selector("input[name=username]")
    same = page.evaluate("""async () => {
        const s = await import('/static/app/js/storage.js');
        const blob = new Blob([new Uint8Array([137, 80, 78, 71, 1, 2, 3])], { type: 'image/png' });
        const record = { sha256: 'x', type: blob.type, buffer: await blob.arrayBuffer() };
        const back = s.recordToBlob(record);
        const bytes = new Uint8Array(await back.arrayBuffer());
        return back.type === 'image/png' && bytes.length === 7 && bytes[0] === 137 && (await s.canStoreBlobs()); }""")
    assert same is True
    context.close()

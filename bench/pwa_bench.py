"""PWA figures, measured in headless Chromium against a real server, in one run:

- the app shell's transfer size on first load, gzipped (as a reverse proxy would send it);
- the time to a usable job list on a warm offline start (service worker + IndexedDB);
- the time to save one checklist answer locally (IndexedDB transaction), p50 and p95, with
  2,000 jobs cached on the phone;
- a whole installation job done offline on a 390x844 touch phone (tests/e2e/phone_walk.py):
  taps and scrolling, in screen heights.

Targets (issues 4 and 16): shell under 150 KB gzipped, warm offline start under 1 s, an answer
saved in under 10 ms at p95 with 2,000 jobs cached, the installation job in at most 25 taps
and 10 screen heights of scrolling.

    .venv/bin/python bench/pwa_bench.py [--runs 10] [--answers 200] [--cached-jobs 2000]
"""
from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
if __name__ == "__main__":  # started as `python3 bench/...`: re-run by the project's Python
    from project_python import use_project_python

    use_project_python()

CHROMIUM = os.environ.get("FIELDAPP_CHROMIUM", "/usr/bin/chromium")
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))  # the walk is shared with the browser test

# Copies of a pulled job under new ids, past and completed, as weeks of work leave on a phone.
FILL_JOBS = """async ([n]) => {
  const { db } = await import('/static/app/js/storage.js');
  const database = await db();
  const jobs = await database.getAll('jobs');
  const tx = database.transaction('jobs', 'readwrite');
  for (let i = 0; i < n; i += 1) {
    const base = jobs[i % jobs.length];
    const day = new Date(Date.parse('2026-01-01T02:00:00Z') + i * 3600e3).toISOString();
    tx.store.put({ ...base, id: crypto.randomUUID(), ref: `${base.ref}-${i}`, status: 'completed',
      scheduled_start: day, scheduled_end: day, _server: { ...base } });
  }
  await tx.done;
  return (await database.count('jobs'));
}"""


def serve(tmp: str):
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from fieldapp import create_app
    from fieldapp.cli import install_fixed_rows
    from fieldapp.extensions import db
    from fieldapp.seed import seed_demo

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                      "BLOB_ROOT": f"{tmp}/blobs", "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    with app.app_context():
        db.create_all()
        install_fixed_rows()
        seed_demo(db.session, app.extensions["fieldapp.clock"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10, help="warm offline starts to time")
    parser.add_argument("--answers", type=int, default=200, help="answers to save and time")
    parser.add_argument("--cached-jobs", type=int, default=2000, help="extra jobs kept on the phone")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        server, base = serve(tmp)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                      timezone_id="Asia/Shanghai", bypass_csp=True)
        page = context.new_page()
        shell_bytes: dict[str, tuple[int, int]] = {}

        def on_response(response):
            url = response.url
            if "/api/" in url or not url.startswith(base):
                return
            try:
                body = response.body()
            except Exception:  # noqa: BLE001 - redirects and the like have none
                return
            path = url[len(base):]
            # The same file may arrive twice (page and service worker); keep the real one.
            if len(body) > shell_bytes.get(path, (0, 0))[0]:
                shell_bytes[path] = (len(body), len(gzip.compress(body, 9)))

        context.on("response", on_response)  # the page's and the service worker's fetches
        page.goto(base + "/app/")
        page.wait_for_selector("input[name=username]")
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        context.remove_listener("response", on_response)
        page.fill("input[name=username]", "tech1")
        page.fill("input[name=password]", "fieldapp-demo")
        page.click("button[type=submit]")
        page.wait_for_selector(".job-card")
        page.wait_for_function("document.querySelector('#sync-badge').dataset.state === 'ok'")

        cached = page.evaluate(FILL_JOBS, [args.cached_jobs])
        context.set_offline(True)
        starts = []
        for _ in range(args.runs):
            began = time.perf_counter()
            page.reload()
            page.wait_for_selector(".job-card")
            starts.append((time.perf_counter() - began) * 1000)

        job_id = page.evaluate("""async () => {
            const { allJobs } = await import('/static/app/js/storage.js');
            return (await allJobs()).find((j) => j.type === 'installation' && j.status !== 'completed').id; }""")
        saves = page.evaluate("""async ([jobId, n]) => {
            const { record } = await import('/static/app/js/outbox.js');
            const times = [];
            for (let i = 0; i < n; i += 1) {
                const t0 = performance.now();
                await record('checklist.answer', jobId, { item_key: 'shoe_covers', value: i % 2 === 0 });
                times.push(performance.now() - t0);
            }
            return times; }""", [job_id, args.answers])
        walk = installation_walk(browser, base, tmp)
        browser.close()
        server.shutdown()

    raw = sum(r for r, _ in shell_bytes.values())
    gz = sum(g for _, g in shell_bytes.values())
    print("fieldapp PWA benchmark (headless Chromium, this machine)")
    print(f"  app shell, first load: {len(shell_bytes)} files, {raw / 1024:.1f} KB raw, "
          f"{gz / 1024:.1f} KB gzipped (target < 150 KB: {'ok' if gz < 150 * 1024 else 'OVER'})")
    for path, (r, g) in sorted(shell_bytes.items(), key=lambda kv: -kv[1][1])[:6]:
        print(f"    {g / 1024:6.1f} KB gz  {path}")
    print(f"  warm offline start to a usable job list, {args.runs} runs: "
          f"p50 {statistics.median(starts):.0f} ms, max {max(starts):.0f} ms "
          f"(target < 1000 ms: {'ok' if statistics.median(starts) < 1000 else 'OVER'})")
    print(f"  one checklist answer saved locally, {len(saves)} saves: "
          f"p50 {statistics.median(saves):.1f} ms, p95 {percentile(saves, 95):.1f} ms "
          f"with {cached} jobs cached (target p95 < 10 ms: {'ok' if percentile(saves, 95) < 10 else 'OVER'})")
    print(f"  a whole installation job offline at 390x844 with touch: {walk.taps} taps "
          f"(target <= 25: {'ok' if walk.taps <= 25 else 'OVER'}), "
          f"{walk.swiped:.0f} px swiped = {walk.screens:.2f} screen heights, "
          f"{walk.app_scrolled:.0f} px scrolled by the app itself, "
          f"{walk.all_screens:.2f} screen heights in all (target <= 10: "
          f"{'ok' if walk.all_screens <= 10 else 'OVER'})")


def installation_walk(browser, base, tmp):
    """The demo installation job, signed in fresh on a touch phone, done offline."""
    from phone_walk import PHONE_TOUCH, do_installation_offline
    from PIL import Image

    photo = os.path.join(tmp, "site.jpg")
    Image.effect_noise((1200, 900), 50).convert("RGB").save(photo, "JPEG", quality=80)
    context = browser.new_context(**PHONE_TOUCH, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  bypass_csp=True, reduced_motion="reduce")
    page = context.new_page()
    page.goto(base + "/app/")
    page.fill("input[name=username]", "tech1")
    page.fill("input[name=password]", "fieldapp-demo")
    page.click("button[type=submit]")
    page.wait_for_selector(".job-card")
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_function("document.querySelector('#sync-badge').dataset.state === 'ok'")
    context.set_offline(True)
    page.reload()
    page.wait_for_selector(".job-card")
    job_id = page.evaluate("""async () => {
        const { allJobs } = await import('/static/app/js/storage.js');
        return (await allJobs()).find((j) => j.type === 'installation').id; }""")
    walk = do_installation_offline(page, base, job_id, photo)
    context.close()
    return walk


if __name__ == "__main__":
    main()

"""PWA figures, measured in headless Chromium against a real server, in one run:

- the app shell's transfer size on first load, gzipped (as a reverse proxy would send it);
- the time to a usable job list on a warm offline start (service worker + IndexedDB);
- the time to save one checklist answer locally (IndexedDB transaction), p50 and p95.

Targets (issue 4): shell under 150 KB gzipped, warm offline start under 1 s, an answer saved
in under 50 ms at p95.

    .venv/bin/python bench/pwa_bench.py [--runs 10] [--answers 200]
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

        context.set_offline(True)
        starts = []
        for _ in range(args.runs):
            began = time.perf_counter()
            page.reload()
            page.wait_for_selector(".job-card")
            starts.append((time.perf_counter() - began) * 1000)

        job_id = page.get_attribute(".job-card", "data-job")
        saves = page.evaluate("""async ([jobId, n]) => {
            const { record } = await import('/static/app/js/outbox.js');
            const times = [];
            for (let i = 0; i < n; i += 1) {
                const t0 = performance.now();
                await record('checklist.answer', jobId, { item_key: 'shoe_covers', value: i % 2 === 0 });
                times.push(performance.now() - t0);
            }
            return times; }""", [job_id, args.answers])
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
          f"(target p95 < 50 ms: {'ok' if percentile(saves, 95) < 50 else 'OVER'})")


if __name__ == "__main__":
    main()

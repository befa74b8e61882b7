"""Load benchmark (issue 9): 50, 200 and 500 concurrent phones syncing against gunicorn and
PostgreSQL on this machine, with a trivial endpoint measured side by side in the same run.

Setup: its own database `chaos_load_<pid>` (created, dropped at the end), the schema, one
dispatcher, 500 technicians (cheap password hashes) with one scheduled job each (through the
real intake API), gunicorn `-w 2 -k gthread --threads 8`, every phone signed in.

Each level runs `--seconds` with N phones (threads, `bench/devices.py`). A phone loops:
a **sync cycle** (record `--batch` notes and answers on its job, push them, pull with its
cursor) and then one **trivial request** (`GET /api/v1/auth/me`: token check, one row,
JSON). Both go through the same server at the same time, so the ratio of their latencies
says what sync costs over "any authenticated request" under that load, whatever else the
machine is doing. Each request opens its own connection (`Connection: close`), for both.

Printed per level: sync cycles/s and mutations/s; p50/p95/p99 of push, pull and the whole
cycle; trivial requests/s and p50/p95/p99; push p50 / trivial p50 and pull p50 / trivial p50.

    .venv/bin/python bench/load.py                      # 50, 200, 500 phones, 20 s each
    .venv/bin/python bench/load.py --levels 10 50 --seconds 5
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
if __name__ == "__main__":  # started as `python3 bench/...`: re-run by the project's Python
    from project_python import use_project_python

    use_project_python()

import chaos  # noqa: E402
from devices import Device, Http  # noqa: E402


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def run_level(phones: list[Device], seconds: float, batch: int) -> dict:
    stop = threading.Event()
    measuring = threading.Event()
    samples = {"push": [], "pull": [], "cycle": [], "trivial": []}
    errors = []
    lock = threading.Lock()

    def loop(phone: Device) -> None:
        job_id = next(iter(phone.jobs))
        n = 0
        try:
            while not stop.is_set():
                for _ in range(batch):
                    n += 1
                    if n % 2:
                        phone.record("job.note", job_id, {"text": f"负载 load {n}"})
                    else:
                        phone.record("checklist.answer", job_id,
                                     {"item_key": phone.answer_key, "value": True})
                t0 = time.perf_counter()
                phone.sync(batch)
                t1 = time.perf_counter()
                phone.pull()
                t2 = time.perf_counter()
                status, _ = phone.http.call("GET", "/api/v1/auth/me", headers={
                    "Authorization": f"Bearer {phone.token}"})
                t3 = time.perf_counter()
                if status != 200:
                    raise RuntimeError(f"/auth/me answered {status}")
                if measuring.is_set():
                    with lock:
                        samples["push"].append(t1 - t0)
                        samples["pull"].append(t2 - t1)
                        samples["cycle"].append(t2 - t0)
                        samples["trivial"].append(t3 - t2)
        except Exception as error:  # noqa: BLE001
            errors.append(f"{phone.username}: {error!r}")

    threads = [threading.Thread(target=loop, args=(p,), daemon=True) for p in phones]
    for t in threads:
        t.start()
    time.sleep(min(3.0, seconds / 4))  # warm-up, not counted
    acked_before = sum(len(p.acked) for p in phones)
    measuring.set()
    started = time.perf_counter()
    time.sleep(seconds)
    measuring.clear()
    elapsed = time.perf_counter() - started
    acked_after = sum(len(p.acked) for p in phones)
    stop.set()
    for t in threads:
        t.join(120)
    out = {"devices": len(phones), "seconds": round(elapsed, 1), "errors": errors,
           "cycles_per_s": len(samples["cycle"]) / elapsed,
           "mutations_per_s": (acked_after - acked_before) / elapsed,
           "trivial_per_s": len(samples["trivial"]) / elapsed}
    for kind, values in samples.items():
        out[kind] = {p: pct(values, p) for p in (50, 95, 99)}
    out["push_ratio"] = out["push"][50] / out["trivial"][50]
    out["pull_ratio"] = out["pull"][50] / out["trivial"][50]
    out["cycle_ratio"] = out["cycle"][50] / out["trivial"][50]
    return out


def main(argv=None, log=print) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=4, help="mutations per push")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", default=chaos.PG_SERVER)
    args = parser.parse_args(argv)
    devices = max(args.levels)
    name = f"chaos_load_{os.getpid()}"
    workdir = tempfile.mkdtemp(prefix="chaos-load-")
    blob_dir = os.path.join(workdir, "blobs")
    url = chaos.create_database(args.pg, name)
    server = None
    app = None
    try:
        app, created = chaos.migrate(url, blob_dir, log)
        if created:
            log(f"schema built from the models (`flask db upgrade` lacks {len(created)} "
                f"tables/columns added this session)")
        people = chaos.seed_people(app, devices)
        port = chaos.free_port()
        server = chaos.Server(port, chaos.server_env(url, blob_dir),
                              os.path.join(workdir, "gunicorn.log"), args.workers, args.threads)
        server.start()
        server.wait_ready()
        chaos.make_jobs(port, people, SimpleNamespace(jobs_per_device=1))
        phones = [Device(Http("127.0.0.1", port, timeout=60, deadline=300),
                         f"chaostech{n:03d}", name=f"load-{n:03d}") for n in range(devices)]

        def ready(phone: Device) -> None:
            phone.login()
            phone.pull()
            job = next(iter(phone.jobs.values()))
            template = phone.templates[job["checklist_template_id"]]
            phone.answer_key = next(i["key"] for i in template["items"] if i["kind"] == "check")
            # On site, so answers are accepted (notes are accepted in any open state).
            for status in ("en_route", "on_site", "in_progress"):
                phone.record("job.status", job["id"], {"status": status})
            phone.sync()

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(ready, phones))
        log(f"load: gunicorn -w {args.workers} -k gthread --threads {args.threads}, "
            f"PostgreSQL, {devices} phones signed in, {args.seconds:.0f} s per level, "
            f"{args.batch} mutations per push")
        results = []
        for level in args.levels:
            result = run_level(phones[:level], args.seconds, args.batch)
            results.append(result)
            report(result, log)
        return results
    finally:
        if server is not None:
            server.stop()
        if app is not None:
            from fieldapp.extensions import db

            with app.app_context():
                db.engine.dispose()
        chaos.drop_database(args.pg, name)
        shutil.rmtree(workdir, ignore_errors=True)


def report(r: dict, log) -> None:
    def ms(d):
        return f"{d[50]:7.1f} {d[95]:7.1f} {d[99]:7.1f}"

    log("")
    log(f"{r['devices']} phones, {r['seconds']} s: {r['cycles_per_s']:.1f} sync cycles/s, "
        f"{r['mutations_per_s']:.1f} mutations/s, {r['trivial_per_s']:.1f} trivial requests/s")
    log("                 p50 ms  p95 ms  p99 ms")
    log(f"  push         {ms(r['push'])}")
    log(f"  pull         {ms(r['pull'])}")
    log(f"  sync cycle   {ms(r['cycle'])}")
    log(f"  trivial      {ms(r['trivial'])}   (GET /api/v1/auth/me)")
    log(f"  p50 ratio to trivial: push {r['push_ratio']:.2f}, pull {r['pull_ratio']:.2f}, "
        f"cycle {r['cycle_ratio']:.2f}")
    if r["errors"]:
        log(f"  errors: {len(r['errors'])}: {r['errors'][:3]}")


if __name__ == "__main__":
    main()

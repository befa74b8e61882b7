"""Chaos benchmark (issue 9): the real server under a hostile network and sudden death.

The real app (gunicorn, PostgreSQL) runs as a subprocess behind `faultproxy.FaultProxy`,
which drops requests, drops answers after the server processed them, delays, duplicates and
reorders. `--devices` simulated phones (`devices.Device`) each do whole jobs (status moves,
answers, photos, notes, the customer's signature, completed) offline-first and sync them;
dispatchers reassign jobs through `PATCH /api/v1/jobs/<id>` meanwhile, so late evidence
becomes conflicts; gunicorn's whole process group is killed with SIGKILL at random moments
and restarted. At the end the proxy is made clean, every phone drains its outbox and pulls,
and the database is checked:

- every acknowledged mutation (the server answered for its seq) has exactly one
  MutationRecord and its effect exactly once: a note, photo, signature by its id; an answer
  or status move as one audit event from that device; a conflict as one Conflict row;
- every blob file's bytes hash to its name; every photo, signature and Blob row has its file;
- every phone's local copy of its jobs (built from incremental pulls) equals the server's.

Prints: mutations, faults by kind, restarts, lost, duplicated, corrupted (must be 0).

    .venv/bin/python bench/chaos.py                       # full size: 50 devices
    .venv/bin/python bench/chaos.py --devices 8 --duration 20 --seed 7

PostgreSQL by default: it creates its own database `chaos_<pid>` on --pg (the server, not a
database) and drops it at the end (--keep to keep it). `--sqlite --workers 1`: a SQLite file
in a temporary directory instead (the test suite's SQLite leg).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)
if __name__ == "__main__":  # started as `python3 bench/...`: re-run by the project's Python
    from project_python import use_project_python

    use_project_python()

from devices import Device, GaveUp, Http  # noqa: E402
from faultproxy import KINDS, FaultProxy  # noqa: E402

from tests.support.services import (  # noqa: E402
    make_bucket,
    moto_server,
    redis_server,
    s3_store_url,
    use_fake_credentials,
)

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
JOB_TYPES = ("installation", "repair", "inspection", "delivery")


# --- database ------------------------------------------------------------------------------

def _admin_conn(server: str):
    import psycopg

    dsn = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    return psycopg.connect(dsn, autocommit=True)


def create_database(server: str, name: str) -> str:
    assert name.startswith("chaos_"), name
    with _admin_conn(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    assert name.startswith("chaos_"), name
    with _admin_conn(server) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(url: str, blob_dir: str, scale: dict | None = None) -> dict:
    """Production settings (no demo seeding, secure cookies, a fixed SECRET_KEY), no
    in-process scheduler (its timed work is not under test and would add noise). `scale`:
    the shared services' settings (FIELDAPP_BLOB_STORE, RATELIMIT_STORAGE_URI)."""
    env = dict(os.environ)
    env.update(scale or {})
    env.update({
        "DATABASE_URL": url, "FIELDAPP_ENV": "production",
        "SECRET_KEY": "chaos-bench-" + hashlib.sha256(url.encode()).hexdigest()[:32],
        "FIELDAPP_BLOB_DIR": blob_dir, "FIELDAPP_SCHEDULER": "0",
        # Only failed sign-ins count against the limit; the bench's are all good, but every
        # device signs in from 127.0.0.1, so a generous limit keeps one typo from stalling
        # the run.
        "FIELDAPP_LOGIN_LIMIT": "1000 per minute",
        "FIELDAPP_LOGIN_ADDRESS_LIMIT": "1000 per minute",
        "PYTHONPATH": ROOT,
    })
    return env


def migrate(url: str, blob_dir: str, log, scale: dict | None = None):
    """`flask db upgrade`, then create any model table the migrations do not have yet
    (models added during this session without a migration). Answers the tables created."""
    env = server_env(url, blob_dir, scale)
    done = subprocess.run([os.path.join(ROOT, ".venv/bin/flask"), "--app", "app", "db",
                           "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        log(f"flask db upgrade failed ({done.stderr.strip().splitlines()[-1:]}); "
            f"creating the tables from the models instead")
    from sqlalchemy import inspect

    from fieldapp import create_app
    from fieldapp.extensions import db
    from fieldapp.models import Base

    # The bench's own handle on the database (setup and checks), without touching this
    # process's environment (the test suite calls main() in-process).
    # Its accounts get cheap password hashes: the bench measures sync, not scrypt.
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "BLOB_ROOT": blob_dir,
                      "BLOB_STORE_URL": (scale or {}).get("FIELDAPP_BLOB_STORE", "file"),
                      "SCHEDULER_ENABLED": False, "AUTO_SEED_DEMO": False,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        inspector = inspect(db.engine)
        tables = set(inspector.get_table_names())
        missing = []
        for table in Base.metadata.sorted_tables:
            if table.name not in tables:
                missing.append(table.name)
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in have]
        if missing:
            # Models changed without a migration yet: build the schema from the models
            # instead (what the test suite does), on a fresh database.
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                    conn.exec_driver_sql("CREATE SCHEMA public")
            else:
                Base.metadata.drop_all(db.engine)
                with db.engine.begin() as conn:
                    conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
            Base.metadata.create_all(db.engine)
        created = missing
        from fieldapp.cli import install_fixed_rows

        install_fixed_rows()
        db.session.remove()
    return app, created


def seed_people(app, devices: int) -> dict:
    """One dispatcher and `devices` technicians, with the cheap password hashes of the
    bench's app (see migrate)."""
    from fieldapp.accounts import service as accounts
    from fieldapp.accounts.context import Ctx
    from fieldapp.extensions import db

    with app.app_context():
        ctx = Ctx(session=db.session, clock=app.extensions["fieldapp.clock"])
        people = {"dispatcher": accounts.create_user(
            ctx, "chaosdisp", "fieldapp-demo", "dispatcher", "调度 Chaos").id}
        techs = []
        for n in range(devices):
            techs.append(accounts.create_user(
                ctx, f"chaostech{n:03d}", "fieldapp-demo", "technician",
                f"技师 {n:03d}").id)
        db.session.commit()
        people["techs"] = techs
        db.session.remove()
    return people


# --- the server ----------------------------------------------------------------------------

class Server:
    """gunicorn in its own process group, so SIGKILL takes the master and its workers."""

    def __init__(self, port: int, env: dict, log_path: str, workers: int = 2, threads: int = 8):
        self.port, self.env, self.log_path = port, env, log_path
        self.workers, self.threads = workers, threads
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(ROOT, ".venv/bin/gunicorn"), "-w", str(self.workers), "-k", "gthread",
             "--threads", str(self.threads), "-b", f"127.0.0.1:{self.port}",
             "--graceful-timeout", "2", "--timeout", "60", "app:app"],
            cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True)
        log.close()

    def wait_ready(self, timeout: float = 60) -> None:
        http = Http("127.0.0.1", self.port, timeout=2, deadline=timeout)
        status, _ = http.call("GET", "/api/v1/auth/me")
        assert status == 401, status

    def kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self.proc = None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the run -------------------------------------------------------------------------------

class Run:
    def __init__(self, args, log=print):
        self.args, self.log = args, log
        self.rng = random.Random(args.seed)
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.reassigned = 0
        self.reassign_refused = 0
        self.refusals: Counter = Counter()
        self.idle = [False] * args.devices
        self.killed = threading.Event()  # a server was killed and came back at least once

    # the actors ------------------------------------------------------------------------
    def killer(self, servers: list[Server]) -> None:
        """SIGKILL one server at a time, chosen at random (the others keep serving)."""
        rng = random.Random(self.args.seed + 1)
        while not self.stop.wait(rng.uniform(self.args.kill_min, self.args.kill_max)):
            server = rng.choice(servers)
            server.kill()
            time.sleep(rng.uniform(0.0, 0.5))
            server.start()
            server.restarts += 1
            self.killed.set()

    def dispatcher(self, index: int, port: int, jobs: list[str], techs: list[dict]) -> None:
        rng = random.Random(self.args.seed + 100 + index)
        phone = Device(Http("127.0.0.1", port, timeout=10, deadline=120), "chaosdisp",
                       name=f"dispatch-{index}")
        try:
            phone.login()
            while not self.stop.wait(rng.uniform(*self.args.reassign_every)):
                job_id = rng.choice(jobs)
                tech = rng.choice(techs)
                status, answer = phone._json("PATCH", f"/api/v1/jobs/{job_id}",
                                             {"technician_id": tech["id"]})
                if status == 200:
                    self.reassigned += 1
                else:
                    if status == 409 and len(jobs) > 1:
                        jobs.remove(job_id)  # closed (completed, approved): pick others
                    self.reassign_refused += 1
                    self.refusals[f"{status} {(answer or {}).get('error')}"] += 1
        except Exception as error:  # noqa: BLE001
            self.errors.append(f"dispatcher {index}: {error!r}")

    def technician(self, index: int, phone: Device) -> None:
        rng = random.Random(self.args.seed + 1000 + index)
        worked: set[str] = set()
        try:
            phone.login()
            phone.pull()
            while not self.stop.is_set():
                todo = [j for j in phone.jobs.values() if j["id"] not in worked
                        and j["status"] not in ("completed", "approved", "cancelled")]
                self.idle[index] = not todo
                if not todo:
                    self.stop.wait(0.5)
                    phone.pull()
                    continue
                job = rng.choice(todo)
                worked.add(job["id"])
                seed = (index + 1) * 100_000 + len(worked) * 100
                phone.work_job(job, seed, rng, batch=rng.randint(3, 12), halfway=phone.pull,
                               extras=self.args.extras)
                phone.pull()
        except Exception as error:  # noqa: BLE001
            self.errors.append(f"device {index} ({phone.username}): {error!r}")


def main(argv=None, log=print) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--jobs-per-device", type=int, default=6)
    parser.add_argument("--duration", type=float, default=120.0,
                        help="seconds of chaos (then a clean drain and the checks)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--fault-rate", type=float, default=0.25,
                        help="share of requests that get a fault")
    parser.add_argument("--kill-min", type=float, default=6.0)
    parser.add_argument("--kill-max", type=float, default=15.0)
    parser.add_argument("--dispatchers", type=int, default=2)
    parser.add_argument("--reassign-every", type=float, nargs=2, default=(0.5, 2.0))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pg", default=PG_SERVER, help="PostgreSQL server URL (no db name)")
    parser.add_argument("--sqlite", action="store_true",
                        help="a SQLite file instead of PostgreSQL (use --workers 1)")
    parser.add_argument("--db-name", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the database and blobs")
    parser.add_argument("--servers", type=int, default=1,
                        help="app server processes (gunicorn each) behind the proxy")
    parser.add_argument("--s3", action="store_true",
                        help="blobs in an S3-compatible store (a moto server started here)")
    parser.add_argument("--redis", action="store_true",
                        help="the rate limits in Redis (a redis-server started here)")
    parser.add_argument("--extras", action="store_true",
                        help="phones also take photos back, ask for parts, take products "
                             "away and bring them back")
    parser.add_argument("--scale-out", action="store_true",
                        help="issue 18: --servers 2 --s3 --redis --extras")
    args = parser.parse_args(argv)
    if args.scale_out:
        args.servers = max(args.servers, 2)
        args.s3 = args.redis = args.extras = True
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 10**6)
    name = args.db_name or f"chaos_{os.getpid()}"
    log(f"chaos: seed {args.seed}, {args.devices} devices, {args.duration:.0f} s, "
        f"database {name}, {args.servers} server(s)"
        f"{', S3' if args.s3 else ''}{', Redis' if args.redis else ''}"
        f"{', parts/take-back/photo removals' if args.extras else ''}")

    workdir = tempfile.mkdtemp(prefix="chaos-")
    blob_dir = os.path.join(workdir, "blobs")
    if args.sqlite:
        os.makedirs(workdir, exist_ok=True)
        url = "sqlite:///" + os.path.join(workdir, f"{name}.db")
    else:
        url = create_database(args.pg, name)
    servers: list[Server] = []
    proxy = None
    run = Run(args, log)
    services = ExitStack()
    try:
        scale = start_services(services, args, log)
        app, created = migrate(url, blob_dir, log, scale)
        if created:
            log(f"schema built from the models (`flask db upgrade` lacks "
                f"{', '.join(created)})")
        people = seed_people(app, args.devices)
        for n in range(args.servers):
            servers.append(Server(free_port(), server_env(url, blob_dir, scale),
                                  os.path.join(workdir, f"gunicorn{n}.log"),
                                  args.workers, args.threads))
            servers[-1].start()
        for server in servers:
            server.wait_ready()
        ports = [server.port for server in servers]
        jobs = make_jobs(ports[0], people, args)
        proxy = FaultProxy(ports, args.seed, rate=args.fault_rate).start()
        log(f"servers on {ports}, proxy on {proxy.port}, {len(jobs)} jobs")

        phones = [Device(Http("127.0.0.1", proxy.port, timeout=10, deadline=180),
                         f"chaostech{n:03d}", name=f"phone-{n:03d}")
                  for n in range(args.devices)]
        techs = [{"id": tid} for tid in people["techs"]]
        threads = [threading.Thread(target=run.technician, args=(n, p), daemon=True)
                   for n, p in enumerate(phones)]
        threads += [threading.Thread(target=run.dispatcher,
                                     args=(n, proxy.port, list(jobs), techs),
                                     daemon=True) for n in range(args.dispatchers)]
        killer = threading.Thread(target=run.killer, args=(servers,), daemon=True)
        started = time.monotonic()
        for t in threads:
            t.start()
        killer.start()
        # Chaos until --duration, or until every phone has no job left to work.
        while not run.stop.wait(1.0):
            # Idle phones end the chaos early, but not before a kill: a run that ended
            # before any server died would prove nothing about dying.
            if time.monotonic() - started > args.duration or (
                    all(run.idle) and run.killed.is_set()):
                break
        run.stop.set()
        killer.join()
        for t in threads:
            t.join(300)
        chaos_s = time.monotonic() - started
        # The clean drain: no more faults, the server up; every phone empties its outbox
        # and pulls to the end.
        proxy.enabled = False
        for server in servers:
            if server.proc is None:
                server.start()
        for server in servers:
            server.wait_ready()
        for phone in phones:
            try:
                if not phone.token:
                    phone.login()
                phone.sync()
                phone.pull()
            except (GaveUp, RuntimeError) as error:
                run.errors.append(f"drain {phone.username}: {error!r}")
        for server in servers:
            server.stop()
        result = check(app, phones, blob_dir, log)
        result.update({
            "seed": args.seed, "devices": args.devices, "jobs": len(jobs),
            "chaos_seconds": round(chaos_s, 1), "requests_through_proxy": proxy.requests,
            "faults": dict(sorted(proxy.faults.items())),
            "faults_total": sum(proxy.faults.values()),
            "restarts": sum(server.restarts for server in servers),
            "servers": len(servers),
            "restarts_by_server": [server.restarts for server in servers],
            "forwarded_by_server": [proxy.forwarded[p] for p in ports],
            "s3": args.s3, "redis": args.redis,
            "reassigned": run.reassigned, "reassign_refused": run.reassign_refused,
            "refusals": dict(run.refusals),
            "errors": run.errors,
            "device_counts": dict(sum((Counter(p.counts) for p in phones), Counter())),
            "net_errors_retried": sum(p.http.net_errors for p in phones),
        })
        report(result, log)
        return result
    finally:
        if proxy is not None:
            proxy.stop()
        for server in servers:
            server.stop()
        try:
            from fieldapp.extensions import db

            with app.app_context():
                db.engine.dispose()
        except Exception:  # noqa: BLE001
            pass
        if not args.keep:
            if not args.sqlite:
                drop_database(args.pg, name)
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log(f"kept database {name} and {workdir}")
        services.close()  # the moto server and Redis, if started (nothing of them is kept)


def start_services(stack: ExitStack, args, log) -> dict:
    """The shared services the app servers need: an S3-compatible object store (moto's
    standalone server) and Redis, each on a free port, stopped when `stack` closes. Answers
    the app servers' settings for them."""
    scale = {}
    if args.s3:
        use_fake_credentials()
        endpoint = stack.enter_context(moto_server())
        make_bucket(endpoint)
        scale["FIELDAPP_BLOB_STORE"] = f"{s3_store_url(endpoint)}"
        log(f"object store: moto server at {endpoint}, {scale['FIELDAPP_BLOB_STORE']}")
    if args.redis:
        scale["RATELIMIT_STORAGE_URI"] = stack.enter_context(redis_server())
        log(f"rate limits: Redis at {scale['RATELIMIT_STORAGE_URI']}")
    return scale


def make_jobs(port: int, people: dict, args) -> list[str]:
    """`--jobs-per-device` scheduled jobs per technician, through the real intake API."""
    disp = Device(Http("127.0.0.1", port, timeout=10, deadline=60), "chaosdisp", name="intake")
    disp.login()
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=1)
    jobs = []
    for n, tech_id in enumerate(people["techs"]):
        for k in range(args.jobs_per_device):
            status, job = disp._json("POST", "/api/v1/jobs", {
                "type": JOB_TYPES[(n + k) % len(JOB_TYPES)],
                "customer": {"name": f"客户 {n}-{k}", "phone": f"139{n:04d}{k:04d}",
                             "address": f"上海市浦东新区锦绣路 {n} 弄 {k} 号"},
                "product_model": "布艺沙发 SF-3S", "problem": "扶手松动", "channel": "phone",
                "scheduled_start": (start + timedelta(hours=k)).isoformat(),
                "scheduled_end": (start + timedelta(hours=k + 1)).isoformat(),
                "technician_id": tech_id})
            if status != 201:
                raise RuntimeError(f"intake: {status} {job}")
            jobs.append(job["id"])
    return jobs


# --- the checks ----------------------------------------------------------------------------

def check(app, phones: list[Device], blob_dir: str, log) -> dict:
    from sqlalchemy import select

    from fieldapp.extensions import db
    from fieldapp.models import (
        Conflict,
        Job,
        JobEvent,
        MutationRecord,
        Note,
        PartsRequest,
        Photo,
        Signature,
        Takeback,
    )
    from fieldapp.models import Device as DeviceRow

    lost, duplicated, corrupted = [], [], []
    statuses, by_type = Counter(), Counter()
    with app.app_context():
        s = db.session
        records = defaultdict(list)
        for r in s.execute(select(MutationRecord)).scalars():
            records[r.mutation_id].append(r)
        per_device_records = Counter(r.device_id for rs in records.values() for r in rs)
        notes = Counter(s.execute(select(Note.id)).scalars())
        photos = defaultdict(list)
        for p in s.execute(select(Photo)).scalars():
            photos[p.id].append(p.sha256)
        signatures = defaultdict(list)
        for g in s.execute(select(Signature)).scalars():
            signatures[g.id].append(g.sha256)
        conflicts = Counter(s.execute(select(Conflict.mutation_id)).scalars())
        removed = {p.id for p in s.execute(select(Photo).where(Photo.removed_at.is_not(None))
                                           ).scalars()}
        parts = Counter(s.execute(select(PartsRequest.id)).scalars())
        takebacks = {t.id: t for t in s.execute(select(Takeback)).scalars()}
        events = Counter()
        for e in s.execute(select(JobEvent).where(JobEvent.device_id.is_not(None))).scalars():
            data = e.data or {}
            if e.type == "answer":
                events[("answer", e.device_id, e.job_id, data.get("item_key"))] += 1
            elif e.type == "status":
                events[("status", e.device_id, e.job_id, data.get("to"))] += 1
            elif e.type == "note":
                events[("note", data.get("note_id"))] += 1
            elif e.type == "photo":
                events[("photo", data.get("photo_id"))] += 1
            elif e.type == "signature":
                events[("signature", data.get("signature_id"))] += 1
            elif e.type == "photo_removed":
                events[("photo_removed", data.get("photo_id"))] += 1
            elif e.type == "parts_request":
                events[("parts_request", data.get("request_id"))] += 1
            elif e.type == "created" and data.get("from_receipt_id"):
                events[("followup", data["from_receipt_id"])] += 1
            elif e.type in ("takeback_receipt", "takeback_return"):
                events[(e.type, data.get("receipt_id"), e.job_id)] += 1
        expected_events = Counter()
        for phone in phones:
            for seq, outcome in sorted(phone.acked.items()):
                m = outcome.mutation
                statuses[outcome.status] += 1
                by_type[m["type"]] += 1
                held = records.get(m["id"], [])
                if len(held) == 0:
                    lost.append(("record", m["id"]))
                elif len(held) > 1:
                    duplicated.append(("record", m["id"]))
                elif (held[0].device_id, held[0].seq) != (phone.device_id, seq):
                    corrupted.append(("record", m["id"], held[0].device_id, held[0].seq))
                args = m["args"]
                if outcome.status == "conflict":
                    _once(conflicts[m["id"]], ("conflict", m["id"]), lost, duplicated)
                if outcome.status != "applied":
                    continue
                t = m["type"]
                if t == "job.note":
                    _once(notes[m["id"]], ("note", m["id"]), lost, duplicated)
                    expected_events[("note", m["id"])] += 1
                elif t == "photo.attach":
                    rows = photos.get(args["photo_id"], [])
                    _once(len(rows), ("photo", args["photo_id"]), lost, duplicated)
                    if rows and rows[0] != args["sha256"]:
                        corrupted.append(("photo_sha", args["photo_id"]))
                    expected_events[("photo", args["photo_id"])] += 1
                elif t == "signature.capture":
                    rows = signatures.get(args["signature_id"], [])
                    _once(len(rows), ("signature", args["signature_id"]), lost, duplicated)
                    if rows and rows[0] != args["sha256"]:
                        corrupted.append(("signature_sha", args["signature_id"]))
                    expected_events[("signature", args["signature_id"])] += 1
                elif t == "checklist.answer":
                    expected_events[("answer", phone.device_id, m["job_id"],
                                     args["item_key"])] += 1
                elif t == "job.status":
                    expected_events[("status", phone.device_id, m["job_id"],
                                     args["status"])] += 1
                elif t == "photo.remove":
                    if args["photo_id"] not in removed:
                        lost.append(("photo_removed", args["photo_id"]))
                    expected_events[("photo_removed", args["photo_id"])] += 1
                elif t == "parts.request":
                    _once(parts[args["request_id"]], ("parts", args["request_id"]), lost,
                          duplicated)
                    expected_events[("parts_request", args["request_id"])] += 1
                elif t == "takeback.receipt":
                    takeback = takebacks.get(args["receipt_id"])
                    if takeback is None:
                        lost.append(("takeback", args["receipt_id"]))
                    else:
                        if takeback.receipt_signature_sha256 != args["signature_sha256"]:
                            corrupted.append(("receipt_signature", args["receipt_id"]))
                    expected_events[("takeback_receipt", args["receipt_id"],
                                     m["job_id"])] += 1
                    # Exactly one follow-up job per receipt, however often it came.
                    expected_events[("followup", args["receipt_id"])] += 1
                elif t == "takeback.return":
                    takeback = takebacks.get(args["receipt_id"])
                    if takeback is None or takeback.status != "returned":
                        lost.append(("takeback_return", args["receipt_id"]))
                    elif takeback.return_signature_sha256 != args["signature_sha256"]:
                        corrupted.append(("return_signature", args["receipt_id"]))
                    expected_events[("takeback_return", args["receipt_id"],
                                     m["job_id"])] += 1
            # No mutation stored that the phone did not get an answer for, nothing left over.
            if per_device_records[phone.device_id] != len(phone.acked):
                duplicated.append(("records_for_device", phone.username,
                                   per_device_records[phone.device_id], len(phone.acked)))
            if phone.outbox:
                lost.append(("outbox_not_drained", phone.username, len(phone.outbox)))
            row = s.get(DeviceRow, phone.device_id) if phone.device_id else None
            top = max(phone.acked, default=0)
            if row is not None and row.last_seq != top:
                corrupted.append(("last_seq", phone.username, row.last_seq, top))
        for key, want in expected_events.items():
            have = events.get(key, 0)
            if have < want:
                lost.append(("event",) + key + (want, have))
            elif have > want:
                duplicated.append(("event",) + key + (want, have))

        # Blobs: every stored blob's bytes hash to its name (files, or objects in the
        # bucket); every photo, signature, receipt signature and Blob row has its bytes.
        store = app.extensions["fieldapp.blobs"]
        if hasattr(store, "names"):  # S3
            names = {name.replace("/", "") for name in store.names()}
        else:
            names = set()
            for dirpath, _dirs, files in os.walk(blob_dir):
                if ".incoming" not in dirpath.split(os.sep):
                    names.update(os.path.basename(dirpath) + f for f in files)
        for digest in sorted(names):
            with store.open(digest) as handle:
                if hashlib.sha256(handle.read()).hexdigest() != digest:
                    corrupted.append(("blob", digest))
        blob_files = len(names)
        from fieldapp.models import Blob

        held = list(s.execute(select(Blob.sha256)).scalars())
        for shas in list(photos.values()) + list(signatures.values()) + [held] + \
                [[t.receipt_signature_sha256, t.return_signature_sha256]
                 for t in takebacks.values()]:
            for digest in shas:
                if digest is not None and digest not in names:
                    corrupted.append(("blob_missing", digest))
        leftovers = len(os.listdir(os.path.join(blob_dir, ".incoming"))) \
            if os.path.isdir(os.path.join(blob_dir, ".incoming")) else 0

        # Convergence: the phone's copy, built from incremental pulls, equals the server's.
        diverged = []
        for phone in phones:
            user_id = phone.user.get("id")
            server_view = {j.id: (j.status, j.change_seq) for j in s.execute(
                select(Job).where(Job.technician_id == user_id)).scalars()}
            local = {j["id"]: (j["status"], j.get("change_seq", None))
                     for j in phone.jobs.values()}
            if any(v[1] is None for v in local.values()):
                server_view = {k: (v[0], None) for k, v in server_view.items()}
            if local != server_view:
                diverged.append(phone.username)
        s.remove()
    return {
        "mutations": sum(statuses.values()), "by_status": dict(statuses),
        "by_type": dict(sorted(by_type.items())),
        "mutation_records": sum(len(r) for r in records.values()),
        "lost": len(lost), "duplicated": len(duplicated), "corrupted": len(corrupted),
        "diverged": len(diverged), "blob_files": blob_files, "incoming_leftovers": leftovers,
        "problems": (lost + duplicated + corrupted)[:20] + [("diverged", d) for d in diverged],
    }


def _once(count: int, key, lost: list, duplicated: list) -> None:
    if count == 0:
        lost.append(key)
    elif count > 1:
        duplicated.append(key)


def report(r: dict, log) -> None:
    log("")
    log(f"seed                  {r['seed']}")
    log(f"devices               {r['devices']} ({r['jobs']} jobs, {r['reassigned']} "
        f"reassignments by dispatchers, {r['reassign_refused']} refused: "
        f"{r['refusals']})")
    log(f"chaos                 {r['chaos_seconds']} s, {r['requests_through_proxy']} requests "
        f"through the proxy, {r['net_errors_retried']} network failures retried by phones")
    log(f"mutations             {r['mutations']} acknowledged "
        f"({', '.join(f'{k} {v}' for k, v in sorted(r['by_status'].items()))})")
    kinds = ", ".join(f"{k} {r['faults'].get(k, 0)}" for k in KINDS)
    log(f"by type               {json.dumps(r['by_type'])}")
    log(f"faults injected       {r['faults_total']} ({kinds})")
    log(f"servers               {r['servers']}: requests forwarded "
        f"{r['forwarded_by_server']}; blobs on {'S3 (moto server)' if r['s3'] else 'files'}"
        f"; rate limits in {'Redis' if r['redis'] else 'memory'}")
    log(f"restarts (SIGKILL)    {r['restarts']} {r['restarts_by_server']}")
    log(f"phones                {json.dumps(r['device_counts'])}")
    log(f"blob files            {r['blob_files']} (temporary leftovers in .incoming: "
        f"{r['incoming_leftovers']})")
    log(f"devices converged     {r['devices'] - r['diverged']}/{r['devices']}")
    log(f"lost                  {r['lost']}")
    log(f"duplicated            {r['duplicated']}")
    log(f"corrupted             {r['corrupted']}")
    if r["errors"]:
        log(f"errors                {len(r['errors'])}: {r['errors'][:5]}")
    if r["problems"]:
        log(f"problems              {r['problems']}")


if __name__ == "__main__":
    result = main()
    ok = (result["lost"] == result["duplicated"] == result["corrupted"] == result["diverged"]
          == 0 and not result["errors"])
    sys.exit(0 if ok else 1)

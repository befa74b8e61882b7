"""Sync benchmark: push throughput against a raw bulk insert, and the cost of an up-to-date
pull at 1,000 and 100,000 jobs.

    .venv/bin/python bench/sync_bench.py                 # SQLite (a temporary file)
    .venv/bin/python bench/sync_bench.py --db postgresql+psycopg://postgres@127.0.0.1/test
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python bench/sync_bench.py
    .venv/bin/python bench/sync_bench.py --quick         # smaller, for a quick look

On PostgreSQL everything happens in a schema of its own (`fieldapp_bench_<pid>`), dropped at
the end, so the database named may hold other data. See bench/README.md for what each figure
means.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
if __name__ == "__main__":  # started as `python3 bench/...`: re-run by the project's Python
    from project_python import use_project_python

    use_project_python()

from sqlalchemy import create_engine, insert, select, text  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append",
                        help="database URL, repeat for several; `sqlite` is a temporary "
                             "SQLite file (default: `sqlite` and $DATABASE_URL if set)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller run: 500 mutations, 1,000 and 20,000 jobs, 20 pulls")
    parser.add_argument("--mutations", type=int, help="mutations pushed (default 2000)")
    parser.add_argument("--batch", type=int, default=100, help="mutations per push")
    parser.add_argument("--small", type=int, default=1_000, help="jobs, first pull size")
    parser.add_argument("--large", type=int, help="jobs, second pull size (default 100,000)")
    parser.add_argument("--pulls", type=int, help="up-to-date pulls timed per size "
                                                  "(default 50)")
    parser.add_argument("--tech-jobs", type=int, default=20,
                        help="jobs held by the pulling technician")
    parser.add_argument("--other-techs", type=int, default=50,
                        help="technicians holding the other jobs")
    parser.add_argument("--huge", type=int, default=0,
                        help="PostgreSQL: also the pull at this many jobs (e.g. 1000000)")
    parser.add_argument("--devices", type=int, default=8,
                        help="PostgreSQL: devices pushing at once (default 8)")
    parser.add_argument("--device-mutations", type=int,
                        help="PostgreSQL: mutations each of them pushes (default 400)")
    args = parser.parse_args(argv)
    args.db = args.db or ["sqlite"] + ([os.environ["DATABASE_URL"]]
                                       if os.environ.get("DATABASE_URL") else [])
    args.device_mutations = args.device_mutations or (100 if args.quick else 400)
    args.mutations = args.mutations or (500 if args.quick else 2000)
    args.large = args.large or (20_000 if args.quick else 100_000)
    args.pulls = args.pulls or (20 if args.quick else 50)
    return args


def normalise_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Bench:
    def __init__(self, args, url: str):
        self.args = args
        self.tmp = tempfile.mkdtemp(prefix="fieldapp-bench-")
        self.schema = None
        self.bulk_made = 0  # jobs bulk-inserted so far (numbers their refs)
        if url != "sqlite":
            self.url = normalise_url(url)
        else:
            self.url = "sqlite:///" + os.path.join(self.tmp, "bench.db")
        self.postgres = self.url.startswith("postgresql")

    # --- set-up ------------------------------------------------------------------------

    def setup(self) -> None:
        from fieldapp import create_app
        from fieldapp.core.clock import Clock

        config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": self.url, "CLOCK": Clock(),
                  "SECRET_KEY": "bench", "BLOB_ROOT": os.path.join(self.tmp, "blobs")}
        if self.postgres:
            # A schema of our own: nothing else in the database is touched.
            self.schema = f"fieldapp_bench_{os.getpid()}"
            admin = create_engine(self.url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            config["SQLALCHEMY_ENGINE_OPTIONS"] = {
                "connect_args": {"options": f"-csearch_path={self.schema}"}}
        self.app = create_app(config)
        self.ctx = self.app.app_context()
        self.ctx.push()

        from fieldapp.cli import install_fixed_rows
        from fieldapp.extensions import db
        from fieldapp.seed import seed_demo

        self.db = db
        self.session = db.session
        self.clock = self.app.extensions["fieldapp.clock"]
        self.policy = self.app.extensions["fieldapp.policy"]
        db.create_all()
        install_fixed_rows()
        seed_demo(self.session, self.clock)

    def teardown(self) -> None:
        try:
            self.session.remove()
            self.db.engine.dispose()
            self.ctx.pop()
        finally:
            if self.schema:
                admin = create_engine(self.url)
                with admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
                admin.dispose()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def prepare_people(self) -> None:
        """tech1 with `--tech-jobs` jobs made through the real intake, a device for it, and
        the other technicians who hold the bulk of the jobs."""
        from fieldapp.accounts import service as accounts
        from fieldapp.accounts.context import Actor, Ctx
        from fieldapp.jobs import service as job_service
        from fieldapp.models import User

        session = self.session
        users = {u.username: u for u in session.scalars(select(User))}
        self.tech1 = users["tech1"]
        ctx = Ctx(session=session, clock=self.clock, policy=self.policy)
        dispatcher = Actor(user=users["dispatcher1"])
        held = session.scalars(select(self._job().id).where(
            self._job().technician_id == self.tech1.id)).all()
        start = self.clock.now().replace(microsecond=0) + timedelta(days=1)
        for n in range(max(0, self.args.tech_jobs - len(held))):
            job_service.intake(ctx, dispatcher, {
                "type": ("delivery", "installation", "repair", "inspection")[n % 4],
                "customer": {"name": "陈女士", "phone": "13912340001", "address": "上海市"},
                "product_model": "布艺沙发 SF-3S", "problem": "扶手松动", "channel": "phone",
                "scheduled_start": start + timedelta(hours=n),
                "scheduled_end": start + timedelta(hours=n + 1),
                "technician_id": self.tech1.id})
        session.commit()
        self.tech_job_ids = session.scalars(select(self._job().id).where(
            self._job().technician_id == self.tech1.id).order_by(self._job().ref)).all()
        self.device, _token = accounts.issue_device(ctx, self.tech1, "bench phone")
        session.commit()
        self.device_id = self.device.id

        now = self.clock.now()
        session.execute(insert(User), [
            {"username": f"bench-tech-{i:03d}", "password_hash": "pbkdf2:sha256:1$x$x",
             "role": "technician", "display_name": f"Bench tech {i}", "active": True,
             "created_at": now} for i in range(self.args.other_techs)])
        session.commit()
        self.other_tech_ids = session.scalars(select(User.id).where(
            User.username.like("bench-tech-%")).order_by(User.id)).all()

    @staticmethod
    def _job():
        from fieldapp.models import Job

        return Job

    # --- 1. push throughput ------------------------------------------------------------

    def push_mutations(self) -> list[dict]:
        """Half checklist.answer (check items of each job's template), half job.note,
        spread over tech1's jobs."""
        return self.device_mutations(self.tech_job_ids, self.args.mutations)

    def bench_push(self) -> dict:
        from fieldapp.models import Note
        from sync import engine

        mutations = self.push_mutations()
        size = self.args.batch
        backend = self.backend_pid()
        cpu = time.process_time() + backend_cpu([backend])
        started = time.perf_counter()
        for first in range(0, len(mutations), size):
            outcome = engine.push(self.session, self.clock, self.device_id,
                                  mutations[first:first + size], self.policy)
            bad = [r for r in outcome.results if r["status"] != engine.APPLIED]
            assert not bad, bad[:3]
        push_seconds = time.perf_counter() - started
        push_cpu = time.process_time() + backend_cpu([backend]) - cpu

        now = self.clock.now()
        rows = [{"id": str(uuid.uuid4()), "job_id": self.tech_job_ids[n % len(self.tech_job_ids)],
                 "author_id": self.tech1.id, "author_role": "technician",
                 "device_id": self.device_id, "text": f"bulk note {n}: 已检查 checked",
                 "created_at": now, "device_at": now} for n in range(len(mutations))]
        backend = self.backend_pid()
        cpu = time.process_time() + backend_cpu([backend])
        started = time.perf_counter()
        self.session.execute(insert(Note), rows)
        self.session.commit()
        bulk_seconds = time.perf_counter() - started
        bulk_cpu = time.process_time() + backend_cpu([backend]) - cpu
        return {"n": len(mutations), "push_s": push_seconds, "bulk_s": bulk_seconds,
                "push_cpu": push_cpu, "bulk_cpu": bulk_cpu,
                "answers": sum(m["type"] == "checklist.answer" for m in mutations),
                "notes": sum(m["type"] == "job.note" for m in mutations)}

    def backend_pid(self):
        """The PostgreSQL backend serving this session (None on SQLite: it runs in-process)."""
        if not self.postgres:
            return None
        pid = self.session.execute(text("SELECT pg_backend_pid()")).scalar()
        self.session.commit()
        return pid

    # --- 2. pull at two sizes ----------------------------------------------------------

    def job_count(self) -> int:
        from sqlalchemy import func

        count = self.session.scalar(select(func.count()).select_from(self._job()))
        self.session.rollback()
        return count

    def grow_jobs(self, target: int) -> float:
        """Bulk-insert jobs held by the other technicians until the table has `target`
        rows, in chunks of 10,000 (one transaction each, one change number each)."""
        from fieldapp.jobs import counters
        from fieldapp.models import ChecklistTemplate, Customer, User

        session = self.session
        missing = target - self.job_count()
        if missing <= 0:
            return 0.0
        started = time.perf_counter()
        template_id = session.scalar(select(ChecklistTemplate.id).where(
            ChecklistTemplate.job_type == "repair", ChecklistTemplate.active.is_(True))
            .order_by(ChecklistTemplate.version.desc()).limit(1))
        customer_id = session.scalar(select(Customer.id).limit(1))
        dispatcher_id = session.scalar(select(User.id).where(User.username == "dispatcher1"))
        session.commit()
        now = self.clock.now()
        start = now.replace(microsecond=0) + timedelta(days=2)
        offset = self.bulk_made
        chunk = 10_000
        for base in range(0, missing, chunk):
            # One change number per chunk, as for any one transaction's rows (on PostgreSQL
            # the counter's value is the numbers' base and must not move).
            change_seq = counters.bump(session)
            rows = []
            for i in range(base, min(missing, base + chunk)):
                n = offset + i
                rows.append({
                    "id": str(uuid.uuid4()), "ref": f"BENCH-{n:07d}", "type": "repair",
                    "status": "scheduled", "customer_id": customer_id,
                    "contact_name": "陈女士", "contact_phone": "13912340001",
                    "address": "上海市浦东新区锦绣路 1001 弄 12 号",
                    "product_model": "布艺沙发 SF-3S", "problem": "扶手松动",
                    "channel": "phone", "priority": "normal",
                    "scheduled_start": start + timedelta(minutes=n),
                    "scheduled_end": start + timedelta(minutes=n + 120),
                    "technician_id": self.other_tech_ids[n % len(self.other_tech_ids)],
                    "checklist_template_id": template_id, "created_by_id": dispatcher_id,
                    "created_at": now, "updated_at": now, "needs_review": False,
                    "change_seq": change_seq})
            session.execute(insert(self._job()), rows)
            session.commit()
        self.bulk_made += missing
        self.analyze()
        return time.perf_counter() - started

    def analyze(self) -> None:
        """Statistics for the planner. On PostgreSQL also what autovacuum and the checkpointer
        would do soon after a bulk load anyway (VACUUM, CHECKPOINT): done first, so they do not
        run during the timed pulls (on 2 cores a background pass over a million fresh rows
        doubled the pull's time)."""
        if not self.postgres:
            with self.db.engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
            return
        with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
            try:
                conn.execute(text("CHECKPOINT"))
            except Exception as refused:  # not a superuser: the pulls may meet one
                print(f"   (no CHECKPOINT: {refused.__class__.__name__})")

    def full_pull(self) -> tuple[str, int, float]:
        """Everything for tech1 from an empty cursor; answers (cursor, jobs, seconds)."""
        from fieldapp.models import Device
        from sync.pull import pull

        session = self.session
        cursor, jobs = "", 0
        started = time.perf_counter()
        while True:
            answer = pull(session, self.tech1, session.get(Device, self.device_id), cursor,
                          self.clock.now())
            session.rollback()
            jobs += len(answer["changes"]["jobs"])
            cursor = answer["cursor"]
            if not answer["has_more"]:
                return cursor, jobs, time.perf_counter() - started

    def up_to_date_pulls(self, cursor: str) -> list[float]:
        """`--pulls` pulls with an up-to-date cursor, each its own transaction."""
        from fieldapp.models import Device
        from sync.pull import pull

        session = self.session
        device = session.get(Device, self.device_id)
        timings = []
        for _ in range(self.args.pulls + 3):
            started = time.perf_counter()
            answer = pull(session, self.tech1, device, cursor, self.clock.now())
            session.rollback()
            timings.append(time.perf_counter() - started)
            assert not answer["changes"]["jobs"] and not answer["removed"]["jobs"], answer
            # The cursor itself may move on PostgreSQL: the horizon follows every
            # transaction of the database, also those that changed nothing of tech1's.
        return timings[3:]  # the first few warm caches

    def plan_index(self, cursor: str) -> tuple[str, str]:
        """The index the up-to-date pull's job lookup uses, by its query plan (`EXPLAIN` /
        `EXPLAIN QUERY PLAN`), or "FULL SCAN"; and the plan itself."""
        seq = int(cursor.rpartition(".")[2])
        sql = (f"SELECT change_seq FROM jobs WHERE technician_id = {int(self.tech1.id)} "
               f"AND change_seq > {seq} AND change_seq <= {seq} "
               f"ORDER BY change_seq LIMIT 101")
        with self.db.engine.connect() as conn:
            if self.postgres:
                plan = "\n".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
                used = re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)", plan)
            else:
                plan = "\n".join(str(r[-1]) for r in
                                 conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
                used = re.findall(r"USING (?:COVERING )?INDEX (\w+)", plan)
        return (", ".join(used) if used else "FULL SCAN"), plan

    def bench_pull(self, size: int) -> dict:
        grow_s = self.grow_jobs(size)
        total = self.job_count()
        cursor, jobs, full_s = self.full_pull()
        timings = self.up_to_date_pulls(cursor)
        timings.sort()
        index, plan = self.plan_index(cursor)
        return {"plan": plan, "jobs": total, "tech_jobs": jobs, "grow_s": grow_s, "full_s": full_s,
                "median_ms": statistics.median(timings) * 1000,
                "min_ms": timings[0] * 1000,
                "p90_ms": timings[int(0.9 * (len(timings) - 1))] * 1000,
                "index": index}

    # --- 3. pushes from 1 and from N devices at once -------------------------------------

    def make_technician(self, username: str, jobs: int):
        """A technician with `jobs` jobs made through the real intake, and a device."""
        from fieldapp.accounts import service as accounts
        from fieldapp.accounts.context import Actor, Ctx
        from fieldapp.jobs import service as job_service
        from fieldapp.models import Job, User

        session = self.session
        ctx = Ctx(session=session, clock=self.clock, policy=self.policy)
        user = accounts.create_user(ctx, username, "Bench-pass-Zq7-long", "technician", username)
        dispatcher = Actor(user=session.scalar(select(User).where(
            User.username == "dispatcher1")))
        start = self.clock.now().replace(microsecond=0) + timedelta(days=1)
        for n in range(jobs):
            job_service.intake(ctx, dispatcher, {
                "type": "repair", "customer": {"name": "陈女士", "phone": "13912340001",
                                               "address": "上海市"},
                "product_model": "布艺沙发 SF-3S", "problem": "扶手松动", "channel": "phone",
                "scheduled_start": start + timedelta(hours=n),
                "scheduled_end": start + timedelta(hours=n + 1), "technician_id": user.id})
        device, _token = accounts.issue_device(ctx, user, "bench phone")
        session.commit()
        job_ids = session.scalars(select(Job.id).where(Job.technician_id == user.id)).all()
        return device.id, job_ids

    def device_mutations(self, job_ids: list[str], count: int) -> list[dict]:
        """`count` mutations over these jobs: half checklist.answer, half job.note."""
        from fieldapp.models import ChecklistItem, Job

        session = self.session
        keys = {}
        for job_id in job_ids:
            keys[job_id] = session.scalars(select(ChecklistItem.key).where(
                ChecklistItem.template_id == session.get(Job, job_id).checklist_template_id,
                ChecklistItem.kind == "check").order_by(ChecklistItem.position)).all()
        session.rollback()
        at = self.clock.now().isoformat()
        out = []
        for n in range(count):
            job_id = job_ids[n % len(job_ids)]
            if n % 2 == 0:
                type_, args = "checklist.answer", {
                    "item_key": keys[job_id][(n // 2) % len(keys[job_id])],
                    "value": (n // 4) % 2 == 0}
            else:
                type_, args = "job.note", {"text": f"bench note {n}: 已检查 checked"}
            out.append({"seq": n + 1, "id": str(uuid.uuid4()), "type": type_,
                        "job_id": job_id, "at": at, "args": args})
        return out

    def _push_all(self, device_id: str, mutations: list[dict], backend_pids: list) -> float:
        """One device's whole queue through sync.engine.push, in its own session (thread)."""
        from sqlalchemy.orm import Session

        from sync import engine

        with self.app.app_context(), Session(self.db.engine) as session:
            backend_pids.append(session.execute(text("SELECT pg_backend_pid()")).scalar())
            session.rollback()
            started = time.perf_counter()
            for first in range(0, len(mutations), self.args.batch):
                outcome = engine.push(session, self.clock, device_id,
                                      mutations[first:first + self.args.batch], self.policy)
                bad = [r for r in outcome.results if r["status"] != engine.APPLIED]
                assert not bad, bad[:3]
            return time.perf_counter() - started

    def bench_parallel(self) -> dict:
        """One device alone, then `--devices` devices of as many technicians at once (threads
        of this process, a session each), each pushing `--device-mutations`. The CPU ceiling
        is the machine's cores over the cores one device keeps busy (this process plus its
        PostgreSQL backend, from /proc)."""
        from concurrent.futures import ThreadPoolExecutor

        count, width = self.args.device_mutations, self.args.devices
        people = [self.make_technician(f"bench-par-{i:02d}", 4) for i in range(width + 1)]
        queues = [self.device_mutations(jobs, count) for _, jobs in people]
        self.session.remove()

        pids: list = []
        cpu0, proc0 = time.process_time(), None
        solo_wall = None

        # Alone: how many cores does one device keep busy?
        with ThreadPoolExecutor(1) as pool:
            future = pool.submit(self._push_all, people[0][0], queues[0], pids)
            while not pids:
                time.sleep(0.001)
            proc0 = backend_cpu(pids)
            solo_wall = future.result()
        busy = (time.process_time() - cpu0 + backend_cpu(pids) - proc0) / solo_wall

        # While they push, sample what the database's backends wait for: a lock wait means
        # something serialises the pushes (a CPU-starved backend waits for nothing).
        done, samples = threading.Event(), []

        engine = self.db.engine  # read here: the sampler thread has no app context

        def sample():
            with engine.connect() as conn:
                while not done.is_set():
                    samples.append(conn.execute(text(
                        "SELECT count(*) FILTER (WHERE state = 'active'), "
                        "count(*) FILTER (WHERE wait_event_type = 'Lock') "
                        "FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()")).one())
                    conn.rollback()
                    time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        started = time.perf_counter()
        with ThreadPoolExecutor(width) as pool:
            walls = list(pool.map(lambda i: self._push_all(people[i][0], queues[i], []),
                                  range(1, width + 1)))
        together = time.perf_counter() - started
        done.set()
        sampler.join()
        solo_rate = count / solo_wall
        many_rate = count * width / together
        cores = os.cpu_count() or 1
        return {"count": count, "devices": width, "solo_rate": solo_rate,
                "many_rate": many_rate, "ratio": many_rate / solo_rate, "busy": busy,
                "ceiling": cores / busy if busy else float("nan"), "cores": cores,
                "slowest": max(walls), "samples": len(samples),
                "active": statistics.mean(a for a, _ in samples) if samples else 0.0,
                "lock_waits": (sum(1 for _, w in samples if w) / len(samples)
                               if samples else 0.0)}


def backend_cpu(pids) -> float:
    """CPU seconds (user + system) used so far by these processes (PostgreSQL backends on
    this machine), from /proc; 0 for None or what cannot be read."""
    total = 0.0
    for pid in pids:
        if pid is None:
            continue
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return total


def describe_db(bench: Bench) -> str:
    if not bench.postgres:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} (temporary file, WAL)"
    with bench.db.engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
    url = bench.url.split("@")[-1]
    return f"PostgreSQL {version} ({url}, schema {bench.schema})"


def run(args, url: str) -> dict:
    """Every figure for one database; prints as it goes and answers the summary's row."""
    bench = Bench(args, url)
    began = time.perf_counter()
    row: dict = {}
    try:
        bench.setup()
        print(f"database: {describe_db(bench)}")
        row["db"] = "PostgreSQL" if bench.postgres else "SQLite"
        bench.prepare_people()

        push = bench.bench_push()
        push_rate = push["n"] / push["push_s"]
        bulk_rate = push["n"] / push["bulk_s"]
        row.update(push_rate=push_rate, bulk_rate=bulk_rate, push_ratio=bulk_rate / push_rate)
        print()
        print(f"1. push: {push['n']} mutations ({push['answers']} checklist.answer + "
              f"{push['notes']} job.note) over {len(bench.tech_job_ids)} jobs, "
              f"batches of {args.batch} (one transaction each, a savepoint per mutation)")
        print(f"   {'':28} {'rows':>7} {'seconds':>9} {'per second':>11}")
        print(f"   {'sync.engine.push':28} {push['n']:>7} {push['push_s']:>9.2f} "
              f"{push_rate:>11,.0f}  mutations/s")
        print(f"   {'bulk insert(Note), 1 txn':28} {push['n']:>7} {push['bulk_s']:>9.3f} "
              f"{bulk_rate:>11,.0f}  rows/s")
        print(f"   CPU (this process + its database backend): push "
              f"{push['push_cpu'] / push['n'] * 1000:.2f} ms per mutation, bulk insert "
              f"{push['bulk_cpu'] / push['n'] * 1000:.3f} ms per row: "
              f"{push['push_cpu'] / max(push['bulk_cpu'], 1e-9):,.0f}x (steadier than wall "
              f"time on a busy machine)")
        print(f"   bulk insert is {bulk_rate / push_rate:,.1f}x the push rate "
              f"({push['push_s'] / push['n'] * 1000:.2f} ms per pushed mutation; target: "
              f"at most 30x)")

        sizes = [args.small, args.large] + ([args.huge] if args.huge and bench.postgres
                                            else [])
        results = [bench.bench_pull(size) for size in sizes]
        print()
        print(f"2. up-to-date pull (tech1 holds {results[0]['tech_jobs']} jobs; the rest "
              f"belong to {args.other_techs} other technicians), {args.pulls} pulls each")
        print(f"   {'jobs in db':>10} {'median ms':>10} {'min ms':>8} {'p90 ms':>8} "
              f"{'full pull ms':>13} {'bulk load s':>12}  index (job lookup)")
        for r in results:
            print(f"   {r['jobs']:>10,} {r['median_ms']:>10.3f} {r['min_ms']:>8.3f} "
                  f"{r['p90_ms']:>8.3f} {r['full_s'] * 1000:>13.1f} {r['grow_s']:>12.1f}  "
                  f"{r['index']}")
        for r in results[1:]:
            ratio = r["median_ms"] / results[0]["median_ms"]
            min_ratio = r["min_ms"] / results[0]["min_ms"]
            row.setdefault("pull_ratios", []).append((r["jobs"], ratio, min_ratio))
            print(f"   median at {r['jobs']:,} / median at {results[0]['jobs']:,} jobs: "
                  f"{ratio:.2f}  (min / min: {min_ratio:.2f}; target: at most 1.2)")
        print(f"   plan of the job lookup at {results[-1]['jobs']:,} jobs:")
        for line in results[-1]["plan"].splitlines():
            print(f"     {line}")

        if bench.postgres:
            par = bench.bench_parallel()
            row["parallel"] = par
            print()
            print(f"3. pushes at once: {par['devices']} devices of as many technicians "
                  f"(threads, a session each), {par['count']} mutations each")
            print(f"   1 device alone:  {par['solo_rate']:>8,.0f} mutations/s, keeping "
                  f"{par['busy']:.2f} of {par['cores']} cores busy (this process + its "
                  f"backend)")
            print(f"   {par['devices']} devices:       {par['many_rate']:>8,.0f} mutations/s")
            print(f"   while they pushed: {par['active']:.1f} backends active on average, a "
                  f"backend waiting on a lock in {par['lock_waits']:.0%} of "
                  f"{par['samples']} samples")
            print(f"   ratio {par['ratio']:.2f}x; CPU ceiling {par['ceiling']:.2f}x "
                  f"(cores / cores one device keeps busy): {par['ratio'] / par['ceiling']:.0%} "
                  f"of the ceiling (target: at least 3x, or 75 % of the ceiling)")
        print(f"   ({time.perf_counter() - began:.0f} s)")
    finally:
        bench.teardown()
    return row


def main(argv=None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    print(f"fieldapp sync benchmark, {datetime.now().isoformat(timespec='seconds')}")
    print(f"machine:  {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{platform.system()} {platform.machine()}; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start")
    rows = []
    for url in args.db:
        print()
        rows.append(run(args, url))
    print()
    print("summary")
    for row in rows:
        pulls = "; ".join(f"pull {jobs:,}/{args.small:,} jobs {ratio:.2f}"
                          for jobs, ratio, _ in row.get("pull_ratios", []))
        line = f"   {row['db']:<10} push = bulk / {row['push_ratio']:.1f}; {pulls}"
        if "parallel" in row:
            par = row["parallel"]
            line += (f"; {par['devices']} devices / 1: {par['ratio']:.2f}x (ceiling "
                     f"{par['ceiling']:.2f}x)")
        print(line)
    print(f"total {time.perf_counter() - began:.0f} s; load average at the end "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

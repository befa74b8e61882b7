"""Dispatcher's desk benchmark: the board and the searches at 1,000 and at 100,000 jobs, side
by side, with the ratio (large / small). A ratio near 1 means the page costs the same however
big the database grows.

Each size gets a database of its own, filled by bench/bulk_jobs.py (200 visits a day, like a
busy office: 1,000 jobs are 5 days, 100,000 jobs 500 days; so the board of "today" holds the
same 200 visits at both sizes and any difference is the cost of the rest of the table), plus
the demo accounts and ten more technicians. Requests go through the Flask test client,
signed in as dispatcher1, against a file SQLite database (the app's own settings: WAL,
synchronous=NORMAL), or PostgreSQL with --db (in a schema of its own, dropped afterwards).

    .venv/bin/python bench/dispatch_bench.py [--runs 15] [--small 1000] [--large 100000]
    .venv/bin/python bench/dispatch_bench.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))
if __name__ == "__main__":  # started as `python3 bench/...`: re-run by the project's Python
    from project_python import use_project_python

    use_project_python()

from sqlalchemy import create_engine, event, text  # noqa: E402

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 2, 30, tzinfo=timezone.utc)  # 10:30 in Shanghai, a Tuesday


def normalise_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class Desk:
    """One database of `size` jobs and a signed-in dispatcher."""

    def __init__(self, size: int, db_url: str | None, tmp: str):
        from fieldapp import create_app
        from fieldapp.core.clock import FixedClock

        self.size = size
        self.schema = None
        self.url = normalise_url(db_url) if db_url else \
            "sqlite:///" + os.path.join(tmp, f"desk-{size}.db")
        config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": self.url,
                  "CLOCK": FixedClock(NOW), "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                  "RATELIMIT_ENABLED": False, "BLOB_ROOT": os.path.join(tmp, "blobs")}
        if self.url.startswith("postgresql"):
            self.schema = f"fieldapp_desk_bench_{os.getpid()}_{size}"
            admin = create_engine(self.url)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            config["SQLALCHEMY_ENGINE_OPTIONS"] = {
                "connect_args": {"options": f"-csearch_path={self.schema}"}}
        self.app = create_app(config)
        self.fill()
        self.client = self.app.test_client()
        response = self.client.post("/login", data={"username": "dispatcher1",
                                                     "password": "fieldapp-demo"})
        assert response.status_code == 302, response.status_code

    def fill(self) -> None:
        from bulk_jobs import make_jobs

        from fieldapp.accounts import service as accounts
        from fieldapp.accounts.context import Ctx
        from fieldapp.cli import install_fixed_rows
        from fieldapp.extensions import db
        from fieldapp.models import User
        from fieldapp.seed import seed_demo

        with self.app.app_context():
            db.create_all()
            install_fixed_rows()
            clock = self.app.extensions["fieldapp.clock"]
            seed_demo(db.session, clock)
            ctx = Ctx(session=db.session, clock=clock)
            techs = [u.id for u in db.session.query(User).filter(User.role == "technician")]
            techs += [accounts.create_user(ctx, f"bench{n}", "fieldapp-demo", "technician",
                                           f"技术员 {n:02d}").id for n in range(10)]
            db.session.commit()
            started = time.perf_counter()
            self.facts = make_jobs(db.session, self.size, today=TODAY, per_day=200,
                                   tz=self.app.extensions["fieldapp.policy"].tz,
                                   technician_ids=techs)
            self.fill_seconds = time.perf_counter() - started
            db.session.execute(text("ANALYZE"))  # fresh statistics, as a live database has
            db.session.commit()

    def rows(self, url: str) -> int | None:
        """How many jobs a list page shows (None for the other pages): a page of 50 rows
        costs more to draw than one of 26, whatever the database holds."""
        if not url.startswith("/dispatch/jobs"):
            return None
        html = self.get(url).get_data(as_text=True)
        return len(re.findall(r'<a href="/dispatch/jobs/[0-9a-f-]{36}">FA', html))

    def time_once(self, url: str) -> tuple[float, float]:
        """Wall-clock and this process's CPU time of one request, ms (on SQLite the whole
        request runs in this process, so its CPU time is what a busy machine cannot inflate)."""
        started, cpu = time.perf_counter(), time.process_time()
        self.get(url)
        return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000

    def get(self, url: str):
        response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        response.get_data()  # a streamed CSV is produced in full
        return response

    def explain(self, url: str) -> list[str]:
        """The database's plan for the list queries one request of `url` runs (its page and
        its count: the statements that read jobs or the search index with a LIMIT), as
        EXPLAIN prints it."""
        from fieldapp.extensions import db

        with self.app.app_context():
            engine = db.engine
        seen = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if ("FROM jobs" in statement or "FROM job_search" in statement) and \
                    "LIMIT" in statement:
                seen.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", record)
        try:
            self.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        out = []
        with engine.connect() as conn:
            for statement, parameters in seen:
                out.append("  " + " ".join(statement.split())[:300] +
                           (" ..." if len(" ".join(statement.split())) > 300 else ""))
                if engine.dialect.name == "sqlite":
                    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
                    depth = {0: 0}
                    for node, parent, _unused, detail in rows:
                        depth[node] = depth.get(parent, 0) + 1
                        out.append("    " + "  " * depth[node] + detail)
                else:
                    for (line,) in conn.exec_driver_sql("EXPLAIN " + statement, parameters):
                        out.append("      " + line)
        return out

    def deep_page_url(self, pages: int) -> str:
        """The URL of page `pages` of the unfiltered list (followed by its own links)."""
        url = "/dispatch/jobs"
        for _ in range(pages - 1):
            html = self.get(url).get_data(as_text=True)
            url = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0] \
                .replace("&amp;", "&")
        return url

    def close(self) -> None:
        from fieldapp.extensions import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        if self.schema:
            admin = create_engine(self.url)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            admin.dispose()


def cases(desk: Desk) -> list[tuple[str, str]]:
    """(label, URL): the same questions at each size (data chosen from the bulk's pattern)."""
    phone = desk.facts.jobs[len(desk.facts.jobs) // 2]["contact_phone"]
    ref = desk.facts.jobs[len(desk.facts.jobs) // 3]["ref"]
    return [
        ("board (HTML, today)", "/dispatch/"),
        ("board.json (today)", "/dispatch/board.json"),
        ("board stamp (poll)", "/dispatch/board.json?only=stamp"),
        ("search: reference", f"/dispatch/jobs?q={ref}"),
        ("search: phone number", f"/dispatch/jobs?q={phone}"),
        ("search: phone ending", f"/dispatch/jobs?q={phone[-4:]}"),
        ("search: name", "/dispatch/jobs?q=陈女士"),
        ("search: name, 2 characters", "/dispatch/jobs?q=陈女"),
        ("search: status new", "/dispatch/jobs?status=new"),
        ("search: visit date", "/dispatch/jobs?date_field=scheduled&date_from=2026-11-20"
                               "&date_to=2026-11-20"),
        ("list: first page", "/dispatch/jobs"),
        ("list: page 10 (keyset)", None),
        ("breaches page", "/dispatch/breaches"),
        ("customer lookup (intake)", f"/dispatch/customers/lookup?phone={phone}"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL"),
                        help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15, help="timed requests per page")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="fieldapp-desk-bench-")
    results: dict[int, dict[str, list[float]]] = {}
    fills = {}
    plans: dict[str, list[str]] = {}
    desks: dict[int, Desk] = {}
    shown: dict[int, dict[str, int | None]] = {args.small: {}, args.large: {}}
    cpu: dict[int, dict[str, list[float]]] = {args.small: {}, args.large: {}}
    try:
        for size in (args.small, args.large):
            print(f"filling {size:,} jobs ...", flush=True)
            desks[size] = Desk(size, args.db, tmp)
            fills[size] = desks[size].fill_seconds
            results[size] = {}
        # The two sizes' requests alternate, so a busy (shared) machine slows both alike.
        urls = {size: cases(desk) for size, desk in desks.items()}
        for i, (label, _url) in enumerate(urls[args.small]):
            page = {size: urls[size][i][1] or desks[size].deep_page_url(10) for size in desks}
            for size, desk in desks.items():
                desk.get(page[size])  # warm: templates compiled, caches filled
                results[size][label] = []
            for size, desk in desks.items():
                shown[size][label] = desk.rows(page[size])
                cpu[size][label] = []
            for _ in range(args.runs):
                for size, desk in desks.items():
                    wall, used = desk.time_once(page[size])
                    results[size][label].append(wall)
                    cpu[size][label].append(used)
            if label.startswith("search:"):
                plans[f"{label}: {page[args.large]}"] = desks[args.large].explain(
                    page[args.large])
    finally:
        for desk in desks.values():
            desk.close()
        shutil.rmtree(tmp, ignore_errors=True)
    small, large = args.small, args.large
    store = "PostgreSQL" if args.db else "SQLite (file)"
    print(f"\nDispatcher's desk, {store}: median (p95) of {args.runs} requests, ms")
    print(f"bulk fill: {small:,} jobs in {fills[small]:.1f} s, {large:,} in {fills[large]:.1f} s")
    head = (f"{'page':28} {f'{small:,} jobs':>17} {f'{large:,} jobs':>17} {'ratio':>7}"
            f" {'rows listed':>12}" + ("" if args.db else f" {'CPU ms':>13} {'ratio':>6}"))
    print(head)
    print("-" * len(head))
    for label in results[small]:
        a, b = results[small][label], results[large][label]

        def cell(values):
            p95 = sorted(values)[max(0, int(round(0.95 * (len(values) - 1))))]
            return f"{statistics.median(values):8.1f} ({p95:6.1f})"

        ratio = statistics.median(b) / statistics.median(a)
        listed = "" if shown[small][label] is None else \
            f"{shown[small][label]} / {shown[large][label]}"
        line = f"{label:28} {cell(a):>17} {cell(b):>17} {ratio:6.2f}x {listed:>12}"
        if not args.db:  # PostgreSQL's share of the work runs in its own processes
            ca, cb = statistics.median(cpu[small][label]), statistics.median(cpu[large][label])
            line += f" {ca:6.1f} {cb:6.1f} {cb / ca:5.2f}x"
        print(line)
    print(f"\nThe searches' plans at {large:,} jobs (EXPLAIN{' QUERY PLAN' if not args.db else ''}"
          " of the page and the count each one runs):")
    for label, lines in plans.items():
        print(f"\n{label}")
        print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Where the tests' data lives: a SQLite file per test (copied from templates built once per
session), or PostgreSQL when FIELDAPP_TEST_DATABASE_URL names a database (emptied per test).

Under pytest-xdist (`pytest -n 2`) every worker has its own PostgreSQL database, the named
one with `_gw0`, `_gw1`, ... appended, made on the fly; SQLite files live in each worker's
own temporary directory anyway."""
from __future__ import annotations

import os
import shutil
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from fieldapp.models import Base

# What FIELDAPP_TEST_DATABASE_URL says (None: SQLite), and this worker's own database on it.
SERVER_URL = os.environ.get("FIELDAPP_TEST_DATABASE_URL") or None
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # set by pytest-xdist in its workers


def _named(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _worker_url(url: str | None) -> str | None:
    if url is None or WORKER is None:
        return url
    return _named(url, f"{make_url(url).database}_{WORKER}")


PG_URL = _worker_url(SERVER_URL)


def _create_database(name: str) -> None:
    # CREATE DATABASE runs outside a transaction, from the database the URL names.
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                  {"name": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _drop_database(name: str) -> None:
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def ensure_worker_database() -> None:
    """This worker's PostgreSQL database exists (the named one itself without xdist)."""
    if PG_URL is not None and PG_URL != SERVER_URL:
        _create_database(make_url(PG_URL).database)


@contextmanager
def fresh_database_url(tmp_path, stem: str):
    """An empty database of its own for one test: a new SQLite file, or on PostgreSQL a new
    database made here and dropped afterwards."""
    if SERVER_URL is None:
        yield "sqlite:///" + str(tmp_path / f"{stem}.db")
        return
    name = f"fieldapp_{stem}_{uuid.uuid4().hex[:8]}"
    _create_database(name)
    try:
        yield _named(SERVER_URL, name)
    finally:
        _drop_database(name)


def truncate(engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def copy_sqlite(template: str, target) -> str:
    """A copy of a template SQLite file at `target`; answers its URL."""
    shutil.copyfile(template, target)
    return "sqlite:///" + str(target)

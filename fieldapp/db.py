"""Engine set-up that the rules depend on, and the one "insert unless it exists" statement.

SQLite: WAL (readers never wait for the writer), synchronous=FULL by default (a commit
survives a power cut, see SQLITE_SYNCHRONOUS), foreign keys on, a busy timeout, and
transactions begun by us so that a sync push can take the write lock up front with
BEGIN IMMEDIATE (pysqlite's own implicit BEGIN cannot do that). PostgreSQL needs nothing
here: the push locks the device row with SELECT ... FOR UPDATE.
"""
from __future__ import annotations

import contextvars

from sqlalchemy import event, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

IMMEDIATE = "fieldapp_immediate"

# Set for the length of a request that changes state (POST, PUT, PATCH, DELETE): every
# transaction it begins takes the SQLite write lock up front. A transaction that began by
# reading cannot start writing once another connection has committed; SQLite then fails at
# once with "database is locked" instead of waiting its turn.
write_request = contextvars.ContextVar("fieldapp_write_request", default=False)


# What each setting promises in WAL mode (https://sqlite.org/pragma.html#pragma_synchronous):
# FULL: the WAL is fsynced at every commit, so a committed transaction survives a power cut
# or an OS crash. NORMAL: fsynced only at checkpoints; the database stays consistent, but
# the last commits before a power cut may be rolled back. A phone drops a mutation from its
# outbox once the server acknowledged it, so losing an acknowledged commit loses the work:
# FULL is the default. EXTRA adds a directory fsync, which WAL mode does not need.
SQLITE_SYNCHRONOUS = ("FULL", "EXTRA", "NORMAL")


def configure_engine(engine: Engine, synchronous: str = "FULL") -> Engine:
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise RuntimeError(f"FIELDAPP_SQLITE_SYNCHRONOUS must be one of {SQLITE_SYNCHRONOUS}, "
                           f"not {synchronous!r}")
    if engine.dialect.name != "sqlite" or getattr(engine, "_fieldapp_configured", False):
        return engine
    engine._fieldapp_configured = True

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={synchronous}")
            # Pages kept in memory, up to 64 MiB (the default is 2 MiB): a search reads
            # thousands of index rows spread over the file, and with 100,000 jobs their pages
            # no longer fit the default (issue 17; a name's page went from 12 to 2 ms).
            cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        immediate = connection.get_execution_options().get(IMMEDIATE) or write_request.get()
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def begin_write(session) -> None:
    """End the session's transaction and begin one that holds the write lock from its start
    (BEGIN IMMEDIATE on SQLite; a plain BEGIN elsewhere).

    For a request that has read (the token lookup, a pull) and now writes: on SQLite a
    transaction that began by reading cannot start writing once another connection has
    committed since; it fails at once with "database is locked" instead of waiting. Taking
    the lock first makes it wait its turn (busy_timeout). Nothing may be pending: the old
    transaction is committed as it stands.
    """
    session.commit()
    session.connection(execution_options={IMMEDIATE: True})


def init_app(app) -> None:
    """Mark state-changing requests so their transactions take the write lock first."""
    from flask import request  # why: no Flask on import

    @app.before_request
    def _mark_write_request():
        write_request.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.teardown_request
    def _unmark_write_request(_error=None):
        write_request.set(False)


def insert_once(session, model, values: dict, conflict_columns: tuple, returning_column):
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None if a row
    with the same unique key exists (or is being inserted by another transaction, which
    PostgreSQL waits for)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        dialect_insert = postgresql_insert
    elif dialect == "sqlite":
        dialect_insert = sqlite_insert
    else:  # pragma: no cover - a savepoint elsewhere

        try:
            with session.begin_nested():
                return session.execute(insert(model).values(**values)
                                       .returning(returning_column)).scalar_one()
        except IntegrityError:
            return None
    stmt = dialect_insert(model).values(**values).on_conflict_do_nothing(
        index_elements=list(conflict_columns)).returning(returning_column)
    return session.execute(stmt).scalar_one_or_none()

"""Named counters, and the change numbers phones pull by (docs/sync-protocol.md, "Change
numbers").

SQLite has one writer at a time, so the change number is a counter row bumped inside the
writing transaction (`UPDATE ... RETURNING`); commits happen in counter order and a pull that
reads value N sees every change numbered N or below.

PostgreSQL commits writers in parallel, so the change number there is the writing
transaction's own id (`pg_current_xact_id()`, 64-bit, never reused) plus a fixed base, and
nothing is locked to get it. A pull reads up to a *visibility horizon*: one below the oldest
transaction of this database still running when the pull looked (`horizon`). Every change
numbered at or below the horizon has committed (or rolled back), so a transaction that took
its number early and commits late is never skipped: the horizon waits for it.
"""
from __future__ import annotations

from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from fieldapp.jobs.models import Counter

CHANGE = "change"
_XID_WRAP = 2 ** 32  # pg_stat_activity shows the 32-bit form of a transaction id

# The base is the change counter's value when the database moved to transaction ids (its
# last counter number): numbers made since are above every number handed out before, so
# cursors kept by phones stay valid. Nothing writes it while the app runs (a moving base
# would let the horizon jump past a transaction in flight).
_BASE = "COALESCE((SELECT value FROM counters WHERE name = 'change'), 0)"
_PG_NUMBER = text(f"SELECT pg_current_xact_id()::text::bigint + {_BASE}")
_PG_SNAPSHOT = text(f"SELECT pg_current_snapshot()::text, {_BASE}")
_PG_CLEAR = text("SELECT pg_stat_clear_snapshot()")
# Transactions running now in this database (others in the cluster cannot write our rows).
_PG_OURS = text("SELECT backend_xid::text::bigint FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_xid IS NOT NULL")


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def bump(session: Session, name: str = CHANGE) -> int:
    """Next value of a named counter, inside the caller's transaction.

    The UPDATE takes the row lock until commit, so values are committed in counter order.
    The change number on PostgreSQL is the transaction's id instead (no lock; every call in
    one transaction answers the same number, like rows one commit writes together).
    """
    if name == CHANGE and _postgres(session):
        return session.execute(_PG_NUMBER).scalar_one()
    stmt = (update(Counter).where(Counter.name == name)
            .values(value=Counter.value + 1).returning(Counter.value))
    value = session.execute(stmt).scalar()
    if value is not None:
        return value
    try:
        with session.begin_nested():
            session.execute(insert(Counter).values(name=name, value=1))
        return 1
    except IntegrityError:  # another transaction created it first
        return session.execute(stmt).scalar_one()


def horizon(session: Session) -> int:
    """PostgreSQL: the highest change number below which every change has committed or
    rolled back.

    1. The snapshot lists every transaction id running in the cluster (`xip`) and the next one
       to be given (`xmax`); a transaction whose number is below `xmin` has finished.
    2. Then pg_stat_activity (read fresh) says which of them belong to this database and
       still run. One that ran at 1 but finished before 2 is visible to the pull's next
       statements (READ COMMITTED), so it need not hold the horizon back.
    The horizon is one below the oldest of ours still running, else one below `xmax`.
    """
    snapshot, base = session.execute(_PG_SNAPSHOT).one()
    xmin, xmax, xip = snapshot.split(":")
    running = [int(x) for x in xip.split(",") if x]
    if not running:
        return int(xmin) - 1 + base
    session.execute(_PG_CLEAR)
    ours = set(session.execute(_PG_OURS).scalars())
    mine = [x for x in running if x % _XID_WRAP in ours]
    return min(mine + [int(xmax)]) - 1 + base


def current(session: Session, name: str = CHANGE) -> int:
    """The counter's value; for the change number, the highest one a pull may read up to."""
    if name == CHANGE and _postgres(session):
        return horizon(session)
    return session.execute(select(Counter.value).where(Counter.name == name)).scalar() or 0

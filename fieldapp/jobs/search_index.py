"""The desk's text search index over jobs: a job's contact name and its customer's phone
number, searched by fragments (issue 17, "Fast at 100,000 jobs"; docs/desk.md, "Search").

- SQLite: an FTS5 table `job_search` (trigram tokenizer, SQLite >= 3.34) holding each job's
  contact name and its customer's `phone_key`, kept in step with `jobs` and `customers` by
  triggers. Its rowids come from `job_search_map` (job id -> integer), because the jobs
  table's own rowid is not stable (its key is a string; VACUUM may renumber it). A 1-2
  character name has no trigram: it is matched as the start of the name through
  `ix_jobs_name_prefix` (NOCASE, so LIKE 'q%' uses it; with the list's sort key, so a page
  of the newest matches is read from the index alone).
- PostgreSQL: `pg_trgm` GIN indexes on `jobs.contact_name` and `customers.phone_key`, which
  PostgreSQL keeps in step itself; ILIKE '%q%' (and 'q%' for 1-2 characters: pg_trgm pads the
  start of a word, so a prefix has trigrams) uses them.

The same objects come from two paths: `attach()` hooks them to the tables' CREATE, so
`create_all` (tests, the benches) makes them, and migration c4e1f2a9b7d3 makes them for a
migrated database. Neither is in the models' metadata (SQLAlchemy cannot describe a virtual
table, a trigger or an operator class), so Alembic's comparison skips them by name
(`include_name`, used by migrations/env.py and tests/test_migrations.py).
"""
from __future__ import annotations

import math
from contextlib import contextmanager

from sqlalchemy import Table, and_, column, event, func, literal_column, or_, select, table, text

from fieldapp.orm import UTCDateTime

MIN_TRIGRAM = 3  # a trigram index finds fragments of three characters and more

# SQLite: the FTS5 table (and the shadow tables FTS5 makes for it), its rowid map, the
# prefix index for short names.
FTS_TABLE = "job_search"
MAP_TABLE = "job_search_map"
SQLITE_TABLES = frozenset({FTS_TABLE, MAP_TABLE} | {
    f"{FTS_TABLE}_{shadow}" for shadow in ("data", "idx", "content", "docsize", "config")})
SQLITE_INDEXES = frozenset({"ix_jobs_name_prefix", "ix_job_search_map_created"})
# PostgreSQL: the trigram indexes.
PG_INDEXES = frozenset({"ix_jobs_contact_name_trgm", "ix_customers_phone_key_trgm"})

SQLITE_INSERT_TRIGGER = f"""CREATE TRIGGER IF NOT EXISTS job_search_insert
AFTER INSERT ON jobs BEGIN
  INSERT INTO {MAP_TABLE} (job_id, created_at) VALUES (new.id, new.created_at);
  INSERT INTO {FTS_TABLE} (rowid, name, phone) VALUES (
    (SELECT id FROM {MAP_TABLE} WHERE job_id = new.id), new.contact_name,
    (SELECT phone_key FROM customers WHERE id = new.customer_id));
END"""

# The map in list order: a page of a common name's newest matches is found by walking it
# (`fts_newest_job_ids`, `walk`) instead of sorting every match.
SQLITE_MAP_CREATED = (f"CREATE INDEX IF NOT EXISTS ix_job_search_map_created ON {MAP_TABLE} "
                      "(created_at, job_id)")

SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(name, phone, "
    "tokenize = 'trigram')",
    f"CREATE TABLE IF NOT EXISTS {MAP_TABLE} (id INTEGER PRIMARY KEY, "
    "job_id VARCHAR(36) NOT NULL UNIQUE, created_at DATETIME NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_jobs_name_prefix ON jobs "
    "(contact_name COLLATE NOCASE, created_at, id)",
    SQLITE_MAP_CREATED,
    SQLITE_INSERT_TRIGGER,
    f"""CREATE TRIGGER IF NOT EXISTS job_search_update AFTER UPDATE OF contact_name, customer_id,
created_at ON jobs WHEN old.contact_name IS NOT new.contact_name
OR old.customer_id IS NOT new.customer_id OR old.created_at IS NOT new.created_at BEGIN
  UPDATE {FTS_TABLE} SET name = new.contact_name,
    phone = (SELECT phone_key FROM customers WHERE id = new.customer_id)
  WHERE rowid = (SELECT id FROM {MAP_TABLE} WHERE job_id = new.id);
  UPDATE {MAP_TABLE} SET created_at = new.created_at WHERE job_id = new.id;
END""",
    f"""CREATE TRIGGER IF NOT EXISTS job_search_delete AFTER DELETE ON jobs BEGIN
  DELETE FROM {FTS_TABLE} WHERE rowid = (SELECT id FROM {MAP_TABLE} WHERE job_id = old.id);
  DELETE FROM {MAP_TABLE} WHERE job_id = old.id;
END""",
    f"""CREATE TRIGGER IF NOT EXISTS job_search_phone AFTER UPDATE OF phone_key ON customers
WHEN old.phone_key IS NOT new.phone_key BEGIN
  UPDATE {FTS_TABLE} SET phone = new.phone_key WHERE rowid IN (
    SELECT m.id FROM {MAP_TABLE} m JOIN jobs j ON j.id = m.job_id
    WHERE j.customer_id = new.id);
END""",
)
# Indexes the jobs the map does not hold yet, in two statements: after a bulk insert made
# with the per-row trigger off (`bulk_insert`), where the trigger would cost 100,000 FTS writes.
SQLITE_INDEX_NEW = (
    f"INSERT INTO {MAP_TABLE} (job_id, created_at) SELECT id, created_at FROM jobs "
    f"WHERE id NOT IN (SELECT job_id FROM {MAP_TABLE}) ORDER BY created_at, id",
    f"""INSERT INTO {FTS_TABLE} (rowid, name, phone)
SELECT m.id, j.contact_name, c.phone_key FROM {MAP_TABLE} m JOIN jobs j ON j.id = m.job_id
LEFT JOIN customers c ON c.id = j.customer_id WHERE m.id > :before""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS job_search_insert", "DROP TRIGGER IF EXISTS job_search_update",
    "DROP TRIGGER IF EXISTS job_search_delete", "DROP TRIGGER IF EXISTS job_search_phone",
    "DROP INDEX IF EXISTS ix_jobs_name_prefix", "DROP INDEX IF EXISTS ix_job_search_map_created",
    f"DROP TABLE IF EXISTS {FTS_TABLE}", f"DROP TABLE IF EXISTS {MAP_TABLE}",
)

PG_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
# The operator class lives in the schema pg_trgm was installed in, which need not be on this
# connection's search_path (a database may hold the app in a schema of its own).
PG_OPCLASS_SCHEMA = ("SELECT n.nspname FROM pg_opclass o JOIN pg_namespace n "
                     "ON n.oid = o.opcnamespace WHERE o.opcname = 'gin_trgm_ops'")
# fastupdate off: a new row goes into the index at once. With a pending list (the default)
# the planner counts its pages until VACUUM merges them, and after a bulk load it chose
# sequential scans; the desk adds a few hundred jobs a day, so the slower insert is nothing.
PG_INDEX_DDL = {
    "jobs": "CREATE INDEX IF NOT EXISTS ix_jobs_contact_name_trgm ON jobs "
            "USING gin (contact_name {schema}.gin_trgm_ops) WITH (fastupdate = off)",
    "customers": "CREATE INDEX IF NOT EXISTS ix_customers_phone_key_trgm ON customers "
                 "USING gin (phone_key {schema}.gin_trgm_ops) WITH (fastupdate = off)",
}


def pg_opclass_schema(connection) -> str:
    """The quoted schema of pg_trgm's operator classes (the extension is made if missing)."""
    connection.exec_driver_sql(PG_EXTENSION)
    schema = connection.exec_driver_sql(PG_OPCLASS_SCHEMA).scalar_one()
    return '"' + schema.replace('"', '""') + '"'


def _after_create(target: Table, connection, **_kw) -> None:
    name = connection.dialect.name
    if name == "sqlite" and target.name == "jobs":
        for statement in SQLITE_DDL:
            connection.exec_driver_sql(statement)
    elif name == "postgresql" and target.name in PG_INDEX_DDL:
        schema = pg_opclass_schema(connection)
        connection.exec_driver_sql(PG_INDEX_DDL[target.name].format(schema=schema))


def _before_drop(target: Table, connection, **_kw) -> None:
    if connection.dialect.name == "sqlite" and target.name == "jobs":
        for statement in SQLITE_DROP:  # else a create_all after drop_all finds them there
            connection.exec_driver_sql(statement)


@contextmanager
def bulk_insert(session):
    """Around a bulk insert of many jobs (bench/bulk_jobs.py): on SQLite the per-row trigger
    is off inside and the new jobs are indexed in two statements after; elsewhere a no-op
    (PostgreSQL's GIN indexes take bulk rows as they are)."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    before = session.execute(select(func.coalesce(func.max(column("id")), 0))
                             .select_from(table(MAP_TABLE))).scalar_one()
    session.execute(text("DROP TRIGGER IF EXISTS job_search_insert"))
    yield
    for statement in SQLITE_INDEX_NEW:
        session.execute(text(statement), {"before": before})
    session.execute(text(SQLITE_INSERT_TRIGGER))


def attach(*tables: Table) -> None:
    """Make the index with these tables (jobs, customers) wherever they are created."""
    for target in tables:
        event.listen(target, "after_create", _after_create)
        event.listen(target, "before_drop", _before_drop)


def include_name(name, type_, parent_names) -> bool:
    """For Alembic's comparison: leave the search index's own objects out."""
    if type_ == "table":
        return name not in SQLITE_TABLES
    if type_ == "index":
        return name not in SQLITE_INDEXES | PG_INDEXES
    return True


# --- the conditions the desk's search uses ---------------------------------------------------

JOB_SEARCH = table(FTS_TABLE, column("rowid"), column("name"), column("phone"))
# created_at: the list's sort key, so the newest matches are found without reading jobs.
SEARCH_MAP = table(MAP_TABLE, column("id"), column("job_id"),
                   column("created_at", UTCDateTime()))


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _phrase(column_name: str, text: str):
    """An FTS5 MATCH for `text` as a substring of one column (a quoted phrase: nothing in
    it is read as an operator)."""
    query = f'{column_name} : "' + text.replace('"', '""') + '"'
    return literal_column(FTS_TABLE).op("MATCH")(query)


def uses_fts(dialect: str, kind: str, text: str) -> bool:
    """Whether this search goes through the SQLite FTS5 table (else the jobs' own columns)."""
    if dialect != "sqlite":
        return False
    if kind == "name":
        return len(text) >= MIN_TRIGRAM
    return kind == "phone" and MIN_TRIGRAM <= len(text) < 11


def fts_conditions(kind: str, text: str) -> list:
    """SQLite: the FTS5 rows a name (substring) or a phone fragment matches. Digits: 4-6 the
    number's ending (尾号), 7-10 its start or its ending (digits need no LIKE escaping)."""
    if kind == "name":
        return [_phrase("name", text)]
    like = JOB_SEARCH.c.phone.like("%" + text)
    if len(text) >= 7:
        like = or_(like, JOB_SEARCH.c.phone.like(text + "%"))
    return [_phrase("phone", text), like]


def _matching_map(conditions: list):
    return SEARCH_MAP.c.id.in_(select(JOB_SEARCH.c.rowid).where(*conditions))


def fts_job_ids(conditions: list):
    """The ids of the jobs whose index row meets `conditions`."""
    return select(SEARCH_MAP.c.job_id).where(_matching_map(conditions))


def fts_newest_job_ids(conditions: list, after: list | None, limit: int, walk: bool = False):
    """The newest `limit` matching job ids in list order (created_at, id descending), after
    the keyset cursor `after`: read from the index's own rows, never from jobs.

    `walk` (many matches, `walk_is_cheaper`): read ix_job_search_map_created newest first and
    keep the matches, stopping at `limit`; else every match's map row is read and sorted.
    `id + 0` keeps SQLite from looking the matches up by id, so it takes the ordered index
    (SQLite has no index hint SQLAlchemy can write)."""
    created, job_id = SEARCH_MAP.c.created_at, SEARCH_MAP.c.job_id
    matching = (SEARCH_MAP.c.id + 0).in_(select(JOB_SEARCH.c.rowid).where(*conditions)) \
        if walk else _matching_map(conditions)
    stmt = select(job_id).where(matching)
    if after is not None:
        a, b = after
        stmt = stmt.where(and_(created <= a, or_(created < a, job_id < b)))
    return stmt.order_by(created.desc(), job_id.desc()).limit(limit)


def walk_is_cheaper(session, conditions: list, limit: int) -> bool:
    """Whether walking the map in list order beats sorting the matches: sorting reads each of
    m matches (about 0.6 us each, measured at 100,000 jobs), the walk about limit * N / m
    index entries of the N jobs (0.06 us each): the walk wins from m > sqrt(limit * N / 10)
    on (about 700 for a page of 50 at 100,000 jobs). Counted only that far; max(id) is the
    map's size, read from the end of its key."""
    jobs = session.execute(select(func.coalesce(func.max(SEARCH_MAP.c.id), 0))).scalar_one()
    enough = math.isqrt(limit * jobs // 10)
    return session.execute(fts_count(conditions, enough + 1)).scalar_one() > enough


def fts_count(conditions: list, cap: int):
    """How many jobs match (up to `cap`), counted in the FTS5 index alone."""
    return select(func.count()).select_from(
        select(JOB_SEARCH.c.rowid).where(*conditions).limit(cap).subquery())


def name_condition(job_table, dialect: str, q: str):
    """Jobs whose contact name holds `q` (any case); a query shorter than a trigram matches
    the start of the name (张三 finds 张三 and 张三丰), by an index on both databases."""
    name = job_table.c.contact_name
    if len(q) < MIN_TRIGRAM:
        pattern = escape_like(q) + "%"
        return name.ilike(pattern, escape="\\") if dialect == "postgresql" else \
            name.like(pattern, escape="\\")
    if dialect == "sqlite":
        return job_table.c.id.in_(fts_job_ids(fts_conditions("name", q)))
    return name.ilike("%" + escape_like(q) + "%", escape="\\")

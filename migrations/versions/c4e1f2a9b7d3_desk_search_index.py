"""the desk's search index: FTS5 (trigram) on SQLite, pg_trgm GIN indexes on PostgreSQL
(issue 17, "Fast at 100,000 jobs")

SQLite: the FTS5 table `job_search` (a job's contact name and its customer's phone digits),
its rowid map `job_search_map`, the triggers that keep both in step with `jobs` and
`customers`, and `ix_jobs_name_prefix` for names shorter than a trigram; filled from the jobs
already there. PostgreSQL: the pg_trgm extension and GIN trigram indexes on
`jobs.contact_name` and `customers.phone_key` (PostgreSQL keeps them in step itself).

The statements are written out here (a migration does not change after it is released) and
are the ones fieldapp/jobs/search_index.py runs when create_all makes the tables;
tests/test_migrations.py checks that both paths make the same objects.

Revision ID: c4e1f2a9b7d3
Revises: 3f9c2a7d51e0
Create Date: 2026-12-03 18:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c4e1f2a9b7d3'
down_revision = '3f9c2a7d51e0'
branch_labels = None
depends_on = None

SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS job_search USING fts5(name, phone, "
    "tokenize = 'trigram')",
    "CREATE TABLE IF NOT EXISTS job_search_map (id INTEGER PRIMARY KEY, "
    "job_id VARCHAR(36) NOT NULL UNIQUE, created_at DATETIME NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_jobs_name_prefix ON jobs "
    "(contact_name COLLATE NOCASE, created_at, id)",
    """CREATE TRIGGER IF NOT EXISTS job_search_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO job_search_map (job_id, created_at) VALUES (new.id, new.created_at);
  INSERT INTO job_search (rowid, name, phone) VALUES (
    (SELECT id FROM job_search_map WHERE job_id = new.id), new.contact_name,
    (SELECT phone_key FROM customers WHERE id = new.customer_id));
END""",
    """CREATE TRIGGER IF NOT EXISTS job_search_update AFTER UPDATE OF contact_name, customer_id,
created_at ON jobs WHEN old.contact_name IS NOT new.contact_name
OR old.customer_id IS NOT new.customer_id OR old.created_at IS NOT new.created_at BEGIN
  UPDATE job_search SET name = new.contact_name,
    phone = (SELECT phone_key FROM customers WHERE id = new.customer_id)
  WHERE rowid = (SELECT id FROM job_search_map WHERE job_id = new.id);
  UPDATE job_search_map SET created_at = new.created_at WHERE job_id = new.id;
END""",
    """CREATE TRIGGER IF NOT EXISTS job_search_delete AFTER DELETE ON jobs BEGIN
  DELETE FROM job_search WHERE rowid = (SELECT id FROM job_search_map WHERE job_id = old.id);
  DELETE FROM job_search_map WHERE job_id = old.id;
END""",
    """CREATE TRIGGER IF NOT EXISTS job_search_phone AFTER UPDATE OF phone_key ON customers
WHEN old.phone_key IS NOT new.phone_key BEGIN
  UPDATE job_search SET phone = new.phone_key WHERE rowid IN (
    SELECT m.id FROM job_search_map m JOIN jobs j ON j.id = m.job_id
    WHERE j.customer_id = new.id);
END""",
    # the jobs already there
    "INSERT INTO job_search_map (job_id, created_at) SELECT id, created_at FROM jobs "
    "ORDER BY created_at, id",
    """INSERT INTO job_search (rowid, name, phone)
SELECT m.id, j.contact_name, c.phone_key FROM job_search_map m JOIN jobs j ON j.id = m.job_id
LEFT JOIN customers c ON c.id = j.customer_id""",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS job_search_insert", "DROP TRIGGER IF EXISTS job_search_update",
    "DROP TRIGGER IF EXISTS job_search_delete", "DROP TRIGGER IF EXISTS job_search_phone",
    "DROP INDEX IF EXISTS ix_jobs_name_prefix",
    "DROP TABLE IF EXISTS job_search", "DROP TABLE IF EXISTS job_search_map",
)
# The operator class is named with the schema pg_trgm is in (it need not be on the
# search_path of the app's connection).
PG_OPCLASS_SCHEMA = ("SELECT n.nspname FROM pg_opclass o JOIN pg_namespace n "
                     "ON n.oid = o.opcnamespace WHERE o.opcname = 'gin_trgm_ops'")
PG_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_customers_phone_key_trgm ON customers "
    "USING gin (phone_key {schema}.gin_trgm_ops) WITH (fastupdate = off)",
    "CREATE INDEX IF NOT EXISTS ix_jobs_contact_name_trgm ON jobs "
    "USING gin (contact_name {schema}.gin_trgm_ops) WITH (fastupdate = off)",
)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_CREATE:
            bind.exec_driver_sql(statement)
    elif bind.dialect.name == "postgresql":
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema = bind.exec_driver_sql(PG_OPCLASS_SCHEMA).scalar_one()
        schema = '"' + schema.replace('"', '""') + '"'
        for statement in PG_INDEXES:
            bind.exec_driver_sql(statement.format(schema=schema))


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            bind.exec_driver_sql(statement)
    elif bind.dialect.name == "postgresql":
        # the extension stays: other objects of the database may use it
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_jobs_contact_name_trgm")
        bind.exec_driver_sql("DROP INDEX IF EXISTS ix_customers_phone_key_trgm")

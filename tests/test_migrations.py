"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from fieldapp import create_app
from fieldapp.jobs import search_index
from fieldapp.models import Base
from tests.support.database import fresh_database_url


@pytest.fixture
def empty_db_url(tmp_path):
    with fresh_database_url(tmp_path, "mig") as url:
        yield url


def test_upgrade_matches_models_and_seeds(empty_db_url, tmp_path):
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_db_url, "TESTING": True,
                      "BLOB_ROOT": str(tmp_path / "blobs"), "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        from fieldapp.extensions import db

        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_name": search_index.include_name})
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        from fieldapp.seed import seed_if_empty

    # First start outside production seeds the empty, migrated database.
    app.config["TESTING"] = False
    assert seed_if_empty(app) is True
    assert seed_if_empty(app) is False
    with app.app_context():
        from fieldapp.extensions import db

        db.engine.dispose()


def search_objects(conn) -> dict:
    """The search index's objects as the database describes them (issue 17)."""
    if conn.dialect.name == "sqlite":
        rows = conn.execute(text(
            "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'job_search%' "
            "OR name = 'ix_jobs_name_prefix'")).all()
        return {(kind, name): " ".join((sql or "").split()) for kind, name, sql in rows}
    rows = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes "
                             "WHERE indexname LIKE '%_trgm'")).all()
    return {("index", name): sql for name, sql in rows}


def test_migrations_and_create_all_make_the_same_search_index(empty_db_url, tmp_path):
    """The FTS5 table, its map and triggers (SQLite), the trigram indexes (PostgreSQL): the
    migration makes exactly what create_all makes (tests and benches use create_all)."""
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_db_url, "TESTING": True,
                      "BLOB_ROOT": str(tmp_path / "blobs"), "SECRET_KEY": "x"})
    with app.app_context():
        upgrade()
        from fieldapp.extensions import db

        with db.engine.connect() as conn:
            migrated = search_objects(conn)
        db.engine.dispose()
    with fresh_database_url(tmp_path, "created") as url:
        engine = create_engine(url)
        try:
            Base.metadata.create_all(engine)
            with engine.connect() as conn:
                created = search_objects(conn)
            Base.metadata.drop_all(engine)  # and drop_all leaves nothing behind
            with engine.connect() as conn:
                assert search_objects(conn) == {}
            Base.metadata.create_all(engine)  # nor in the way of the next create_all
        finally:
            engine.dispose()
    expected = ({("table", "job_search"), ("table", "job_search_map"),
                 ("index", "ix_jobs_name_prefix"), ("trigger", "job_search_insert"),
                 ("trigger", "job_search_update"), ("trigger", "job_search_delete"),
                 ("trigger", "job_search_phone")}
                if empty_db_url.startswith("sqlite") else
                {("index", name) for name in search_index.PG_INDEXES})
    assert expected <= set(migrated)
    assert migrated == created

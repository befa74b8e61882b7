"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fieldapp import create_app
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
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        from fieldapp.seed import seed_if_empty

    # First start outside production seeds the empty, migrated database.
    app.config["TESTING"] = False
    assert seed_if_empty(app) is True
    assert seed_if_empty(app) is False
    with app.app_context():
        from fieldapp.extensions import db

        db.engine.dispose()

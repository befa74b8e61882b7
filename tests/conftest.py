"""Fixtures every area shares: a real database (a SQLite file, or PostgreSQL when
FIELDAPP_TEST_DATABASE_URL says so), the app with an injected clock, a test client, an API
helper, the demo data and a technician's phone. Helpers live in tests/support/; each area's
own fixtures in its conftest.py (the live server and the browser: tests/e2e/conftest.py)."""
from __future__ import annotations

import os

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import create_engine, select

from fieldapp import create_app
from fieldapp.cli import install_fixed_rows
from fieldapp.core.clock import FixedClock
from fieldapp.extensions import db, limiter
from fieldapp.models import Base, User
from fieldapp.seed import seed_demo
from tests.support import database, services
from tests.support.helpers import ROOT, T0, ApiClient, app_config
from tests.support.synckit import Phone, job_of_type

PG_URL = database.PG_URL


def pytest_report_header(config):
    return f"fieldapp database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    base = os.path.join(ROOT, "fieldapp", "translations")
    for lang in os.listdir(base) if os.path.isdir(base) else []:
        po = os.path.join(base, lang, "LC_MESSAGES", "messages.po")
        if os.path.exists(po):
            with open(po, "rb") as handle:
                catalog = read_po(handle)
            # Written aside and renamed: parallel workers never read a half-written file.
            partial = f"{po[:-3]}.mo.{os.getpid()}"
            with open(partial, "wb") as handle:
                write_mo(handle, catalog, use_fuzzy=True)
            os.replace(partial, po[:-3] + ".mo")


@pytest.fixture(scope="session")
def pg_engine():
    if not PG_URL:
        yield None
        return
    database.ensure_worker_database()
    engine = create_engine(PG_URL)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory):
    """Two SQLite files built once: the schema with its fixed rows, and the same with the
    demo data seeded at T0. A test copies one: far cheaper than create_all and seeding."""
    folder = tmp_path_factory.mktemp("templates")
    paths = {"base": str(folder / "base.db"), "demo": str(folder / "demo.db")}
    app = create_app(app_config("sqlite:///" + paths["base"], str(folder / "blobs"),
                                FixedClock(T0)))
    with app.app_context():
        db.create_all()
        install_fixed_rows()
        db.session.remove()
        db.engine.dispose()  # the last connection checkpoints the WAL into the file
    app.config["SQLALCHEMY_DATABASE_URI"] = database.copy_sqlite(paths["base"], paths["demo"])
    demo_app = create_app(dict(app.config))
    with demo_app.app_context():
        seed_demo(db.session, demo_app.extensions["fieldapp.clock"])
        db.session.remove()
        db.engine.dispose()
    return paths


def _demo_from_template(request) -> bool:
    """On SQLite a test that takes `demo` starts from the seeded template."""
    return not PG_URL and "demo" in request.fixturenames


@pytest.fixture
def db_url(request, tmp_path, pg_engine):
    if pg_engine is not None:
        database.truncate(pg_engine)
        return PG_URL
    templates = request.getfixturevalue("sqlite_templates")
    template = templates["demo" if _demo_from_template(request) else "base"]
    return database.copy_sqlite(template, tmp_path / "test.db")


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture(scope="session")
def s3_endpoint():
    """An S3-compatible server: FIELDAPP_TEST_S3_ENDPOINT (.ci/run starts one), else a moto
    server started here for the session; its bucket made."""
    if not services.s3_available():
        pytest.skip("no S3 server: set FIELDAPP_TEST_S3_ENDPOINT or install moto[server]")
    services.use_fake_credentials()
    endpoint = os.environ.get("FIELDAPP_TEST_S3_ENDPOINT")
    if endpoint:
        services.make_bucket(endpoint)
        yield endpoint
        return
    with services.moto_server() as endpoint:
        services.make_bucket(endpoint)
        yield endpoint


@pytest.fixture(scope="session")
def redis_url():
    """A real Redis: FIELDAPP_TEST_REDIS_URL, else a private redis-server for the session."""
    if os.environ.get("FIELDAPP_TEST_REDIS_URL"):
        yield os.environ["FIELDAPP_TEST_REDIS_URL"]
        return
    if not services.redis_available():
        pytest.skip("no Redis: set FIELDAPP_TEST_REDIS_URL or install redis-server")
    with services.redis_server() as url:
        yield url


@pytest.fixture
def blob_store_config(request):
    """The app's blob store: files (the default), or, where a module parametrizes this
    fixture with "s3" (`BOTH_BLOB_STORES`), a fresh prefix in the S3 server's bucket."""
    if getattr(request, "param", "file") == "s3":
        return {"BLOB_STORE_URL": services.s3_store_url(request.getfixturevalue("s3_endpoint"))}
    return {}


@pytest.fixture
def app(db_url, tmp_path, clock, blob_store_config):
    app = create_app(app_config(db_url, str(tmp_path / "blobs"), clock, **blob_store_config))
    with app.app_context():
        if PG_URL:  # SQLite files come from a template that has them
            install_fixed_rows()
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def session(app):
    with app.app_context():
        yield db.session


@pytest.fixture
def demo(request, app, clock):
    """The demo accounts and jobs; returns {username: user id}."""
    with app.app_context():
        if _demo_from_template(request):
            assert clock.now() == T0, "the demo template is seeded at T0: take `demo` first"
        else:
            seed_demo(db.session, clock)
        users = {u.username: u.id for u in db.session.scalars(select(User))}
        db.session.remove()
    return users


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api(client):
    return ApiClient(client)


# --- a technician's phone (the sync and parts tests) --------------------------------------

@pytest.fixture
def tech1(client, demo):
    return Phone(client, "tech1")


@pytest.fixture
def job(tech1):
    return job_of_type(tech1, "repair")

"""Fixtures: a real database (SQLite file, or PostgreSQL when FIELDAPP_TEST_DATABASE_URL says
so), the app with an injected clock, a test client and an API helper."""
from __future__ import annotations

import io
import hashlib
import os
import sys
import uuid
from datetime import datetime, timezone

import threading

import pytest
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

from fieldapp import create_app  # noqa: E402
from fieldapp.core.clock import FixedClock  # noqa: E402
from fieldapp.models import Base  # noqa: E402

PG_URL = os.environ.get("FIELDAPP_TEST_DATABASE_URL")
# Tuesday 24 November 2026, 09:00 in Shanghai: inside working hours.
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)


def pytest_report_header(config):
    return f"fieldapp database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite'}"


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    base = os.path.join(ROOT, "fieldapp", "translations")
    for lang in os.listdir(base) if os.path.isdir(base) else []:
        po = os.path.join(base, lang, "LC_MESSAGES", "messages.po")
        if os.path.exists(po):
            with open(po, "rb") as handle:
                catalog = read_po(handle)
            with open(po[:-3] + ".mo", "wb") as handle:
                write_mo(handle, catalog, use_fuzzy=True)


@pytest.fixture(scope="session")
def pg_engine():
    if not PG_URL:
        yield None
        return
    engine = create_engine(PG_URL)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _truncate(engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def db_url(tmp_path, pg_engine):
    if pg_engine is not None:
        _truncate(pg_engine)
        return PG_URL
    return "sqlite:///" + str(tmp_path / "test.db")


@pytest.fixture
def clock():
    return FixedClock(T0)


@pytest.fixture
def app(db_url, tmp_path, clock):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "CLOCK": clock,
        "BLOB_ROOT": str(tmp_path / "blobs"),
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": True,
        "SECRET_KEY": "test-secret",
    })
    from fieldapp.cli import install_fixed_rows
    from fieldapp.extensions import db, limiter

    with app.app_context():
        if not PG_URL:
            db.create_all()
        install_fixed_rows()
        limiter.reset()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def session(app):
    from fieldapp.extensions import db

    with app.app_context():
        yield db.session


@pytest.fixture
def demo(app):
    """The demo accounts and jobs; returns {username: user id}."""
    from fieldapp.extensions import db
    from fieldapp.models import User
    from fieldapp.seed import seed_demo

    with app.app_context():
        seed_demo(db.session, app.extensions["fieldapp.clock"])
        return {u.username: u.id for u in db.session.query(User).all()}


@pytest.fixture
def client(app):
    return app.test_client()


class ApiClient:
    """Talks JSON to /api/v1 with a bearer token per signed-in user."""

    def __init__(self, client):
        self.client = client
        self.tokens: dict[str, str] = {}
        self.devices: dict[str, str] = {}

    def login(self, username: str, password: str = "fieldapp-demo", device: str = "pytest"):
        response = self.client.post("/api/v1/auth/login", json={
            "username": username, "password": password, "device_name": device})
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        self.tokens[username] = body["token"]
        self.devices[username] = body["device_id"]
        return body

    def call(self, method: str, path: str, as_: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if as_ is not None:
            if as_ not in self.tokens:
                self.login(as_)
            headers["Authorization"] = f"Bearer {self.tokens[as_]}"
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, as_=None, **kw):
        return self.call("GET", path, as_, **kw)

    def post(self, path, as_=None, **kw):
        return self.call("POST", path, as_, **kw)

    def patch(self, path, as_=None, **kw):
        return self.call("PATCH", path, as_, **kw)

    def put(self, path, as_=None, **kw):
        return self.call("PUT", path, as_, **kw)


@pytest.fixture
def api(client):
    return ApiClient(client)


def intake_body(**overrides) -> dict:
    body = {
        "type": "repair",
        "customer": {"name": "陈女士", "phone": "13912340001",
                     "address": "上海市浦东新区锦绣路 1001 弄 12 号"},
        "product_model": "布艺沙发 SF-3S",
        "problem": "扶手松动",
        "channel": "phone",
    }
    body.update(overrides)
    return body


def png_bytes(seed: int = 0, size=(8, 8)) -> bytes:
    from PIL import Image

    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(seed: int = 0, size=(16, 12)) -> bytes:
    from PIL import Image

    image = Image.new("RGB", size, ((seed * 53) % 256, (seed * 29) % 256, (seed * 7) % 256))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_uuid() -> str:
    return str(uuid.uuid4())


# --- driving a technician's phone through sync ---------------------------------------------

DEVICE_AT = "2026-11-24T02:30:00Z"


def sync_push(api: ApiClient, tech: str, mutations: list[tuple], at: str = DEVICE_AT):
    """Push `mutations` ((type, job_id, args) tuples) from `tech`'s device, numbering them
    after the device's last seq. Answers the HTTP response."""
    if tech not in api.tokens:
        api.login(tech)
    me = api.get("/api/v1/auth/me", as_=tech)
    assert me.status_code == 200, me.get_json()
    seq = me.get_json()["last_seq"]
    batch = []
    for type_, job_id, args in mutations:
        seq += 1
        batch.append({"seq": seq, "id": new_uuid(), "type": type_, "job_id": job_id,
                      "at": at, "args": args})
    return api.post("/api/v1/sync/push", as_=tech,
                    json={"device_id": api.devices[tech], "mutations": batch})


def upload_blob(api: ApiClient, user: str, data: bytes, content_type: str) -> str:
    digest = sha(data)
    response = api.put(f"/api/v1/blobs/{digest}", as_=user, data=data,
                       content_type=content_type)
    assert response.status_code in (200, 201), response.get_json()
    return digest


def pull_templates(api: ApiClient, tech: str) -> dict:
    """Every checklist template the technician's phone gets, by id."""
    templates, cursor = {}, ""
    while True:
        response = api.get(f"/api/v1/sync/pull?cursor={cursor}", as_=tech)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        for template in body["changes"]["checklist_templates"]:
            templates[template["id"]] = template
        cursor = body["cursor"]
        if not body["has_more"]:
            return templates


_TO_IN_PROGRESS = {"scheduled": ["en_route", "on_site", "in_progress"],
                   "en_route": ["on_site", "in_progress"], "on_site": ["in_progress"],
                   "paused": ["in_progress"], "rework": ["in_progress"], "in_progress": []}


def completion_mutations(api: ApiClient, job: dict, tech: str, seed: int = 0) -> list[tuple]:
    """Mutations that satisfy every required item of the job's template and attach a
    signature (blobs uploaded first); no status moves."""
    template = pull_templates(api, tech)[job["checklist_template_id"]]
    job_id = job["id"]
    mutations = []
    for n, item in enumerate(template["items"]):
        if not item["required"]:
            continue
        kind = item["kind"]
        if kind == "photo":
            for k in range(item.get("min_photos") or 1):
                digest = upload_blob(api, tech, jpeg_bytes(seed * 1000 + n * 10 + k + 1),
                                     "image/jpeg")
                mutations.append(("photo.attach", job_id, {
                    "photo_id": new_uuid(), "sha256": digest, "item_key": item["key"]}))
            continue
        value = {"check": True, "text": "已完成 done", "number": 1,
                 "choice": (item.get("options") or [{}])[0].get("value")}[kind]
        mutations.append(("checklist.answer", job_id, {"item_key": item["key"],
                                                       "value": value}))
    signature = upload_blob(api, tech, png_bytes(seed * 1000 + 999), "image/png")
    mutations.append(("signature.capture", job_id, {
        "signature_id": new_uuid(), "sha256": signature, "signer_name": "陈女士",
        "signer_relation": "customer"}))
    return mutations


def complete_job(api: ApiClient, job_id: str, tech: str = "tech1", seed: int = 0) -> dict:
    """Drive an assigned job to `completed` the way the phone does: status steps, every
    required checklist item, photos, signature, then `completed`, all through sync push.
    Answers the job as the technician sees it afterwards."""
    got = api.get(f"/api/v1/jobs/{job_id}", as_=tech)
    assert got.status_code == 200, got.get_json()
    job = got.get_json()
    steps = _TO_IN_PROGRESS[job["status"]]
    mutations = [("job.status", job_id, {"status": s}) for s in steps]
    mutations += completion_mutations(api, job, tech, seed)
    mutations.append(("job.status", job_id, {"status": "completed"}))
    response = sync_push(api, tech, mutations)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(mutations), results
    done = api.get(f"/api/v1/jobs/{job_id}", as_=tech).get_json()
    assert done["status"] == "completed", done["status"]
    return done


# --- a real server and a real browser (tests/e2e) ----------------------------------------

@pytest.fixture
def live_server(app, demo):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="session")
def browser():
    from browser_kit import CHROMIUM

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield browser
        browser.close()

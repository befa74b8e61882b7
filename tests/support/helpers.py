"""Helpers the tests share: the API client with a token per user, request bodies, image
bytes, and driving a technician's phone through sync to a completed job."""
from __future__ import annotations

import hashlib
import io
import os
import uuid
from datetime import datetime, timezone

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Tuesday 24 November 2026, 09:00 in Shanghai: inside working hours.
T0 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
# New passwords in the tests: a cheap PBKDF2 instead of scrypt (~0.15-0.3 s a hash); nothing
# but tests/test_cli.py's production start is about the hash itself.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1000"


def app_config(db_url: str, blob_root: str, clock, **overrides) -> dict:
    """The configuration of every app the tests make (fixtures and the tests' own)."""
    # SQLite without an fsync per commit (FULL costs ~8 ms a commit on this disk): no test
    # cuts the power; tests/sync/test_object_store.py checks the default is FULL.
    return {"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_url, "CLOCK": clock,
            "BLOB_ROOT": blob_root, "WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True,
            "SECRET_KEY": "test-secret", "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
            "SQLITE_SYNCHRONOUS": "NORMAL", **overrides}


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
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(seed: int = 0, size=(16, 12)) -> bytes:
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


def complete_job(api: ApiClient, job_id: str, tech: str = "tech1", seed: int = 0,
                 at: str = DEVICE_AT) -> dict:
    """Drive an assigned job to `completed` the way the phone does: status steps, every
    required checklist item, photos, signature, then `completed`, all through sync push,
    done on the phone at `at` (the time of record). Answers the job as the technician
    sees it afterwards."""
    got = api.get(f"/api/v1/jobs/{job_id}", as_=tech)
    assert got.status_code == 200, got.get_json()
    job = got.get_json()
    steps = _TO_IN_PROGRESS[job["status"]]
    mutations = [("job.status", job_id, {"status": s}) for s in steps]
    mutations += completion_mutations(api, job, tech, seed)
    mutations.append(("job.status", job_id, {"status": "completed"}))
    response = sync_push(api, tech, mutations, at=at)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["applied"] * len(mutations), results
    done = api.get(f"/api/v1/jobs/{job_id}", as_=tech).get_json()
    assert done["status"] == "completed", done["status"]
    return done

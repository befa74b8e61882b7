"""Shared pieces of the sync tests: a simulated phone that talks to the real HTTP API, row
counts read straight from the database, and a driver that takes a job to `completed`. The
phone fixtures (`tech1`, `job`) are in tests/conftest.py."""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from sqlalchemy import func, select

from tests.support.helpers import T0, intake_body, jpeg_bytes, new_uuid, png_bytes, sha  # noqa: F401

PASSWORD = "fieldapp-demo"


class Phone:
    """One signed-in device: its own token, device id and mutation counter."""

    def __init__(self, client, username: str, name: str = "phone", device_id: str | None = None):
        self.client = client
        self.username = username
        self.name = name
        self.seq = 0  # the last seq this phone has numbered
        self.login(device_id)

    def login(self, device_id: str | None = None) -> dict:
        body = {"username": self.username, "password": PASSWORD, "device_name": self.name}
        if device_id:
            body["device_id"] = device_id
        response = self.client.post("/api/v1/auth/login", json=body)
        assert response.status_code == 200, response.get_json()
        data = response.get_json()
        self.token, self.device_id, self.user = data["token"], data["device_id"], data["user"]
        return data

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    # --- mutations ---------------------------------------------------------------------
    def mutation(self, type_: str, job_id: str | None, args, *, seq: int | None = None,
                 id: str | None = None, at: str | None = None) -> dict:
        """The next mutation in this phone's queue (numbered unless `seq` is given)."""
        if seq is None:
            self.seq += 1
            seq = self.seq
        return {"seq": seq, "id": id or new_uuid(), "type": type_, "job_id": job_id,
                "at": at or datetime.now(timezone.utc).isoformat(), "args": args}

    def note(self, job_id, text="note", **kw):
        return self.mutation("job.note", job_id, {"text": text}, **kw)

    def status(self, job_id, status, reason=None, **kw):
        args = {"status": status}
        if reason is not None:
            args["reason"] = reason
        return self.mutation("job.status", job_id, args, **kw)

    def answer(self, job_id, item_key, value, **kw):
        return self.mutation("checklist.answer", job_id, {"item_key": item_key, "value": value},
                             **kw)

    def photo(self, job_id, sha256, item_key=None, photo_id=None, **kw):
        args = {"photo_id": photo_id or new_uuid(), "sha256": sha256}
        if item_key is not None:
            args["item_key"] = item_key
        return self.mutation("photo.attach", job_id, args, **kw)

    def signature(self, job_id, sha256, **kw):
        return self.mutation("signature.capture", job_id, {
            "signature_id": new_uuid(), "sha256": sha256, "signer_name": "陈女士",
            "signer_relation": "customer"}, **kw)

    # --- HTTP --------------------------------------------------------------------------
    def push_raw(self, mutations, device_id: str | None = None):
        return self.client.post("/api/v1/sync/push", headers=self.headers, json={
            "device_id": device_id or self.device_id, "mutations": mutations})

    def push(self, mutations) -> dict:
        response = self.push_raw(mutations)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def push_hostile(self, mutations):
        """Push as a careless or hostile client can: Python's own JSON writer, which sends
        NaN and Infinity and escapes lone surrogates (`\\ud800`); the app's JSON (strict) would
        refuse to write them."""
        body = json.dumps({"device_id": self.device_id, "mutations": mutations})
        return self.client.post("/api/v1/sync/push", data=body,
                                headers={**self.headers, "Content-Type": "application/json"})

    def pull_raw(self, cursor: str = "", limit: int | None = None):
        query = {"cursor": cursor}
        if limit is not None:
            query["limit"] = limit
        return self.client.get("/api/v1/sync/pull", headers=self.headers, query_string=query)

    def pull(self, cursor: str = "", limit: int | None = None) -> dict:
        response = self.pull_raw(cursor, limit)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def pull_all(self, cursor: str = "", limit: int = 100) -> tuple[list[dict], str]:
        """Every page from `cursor` on: (pages, final cursor)."""
        pages = []
        while True:
            page = self.pull(cursor, limit)
            pages.append(page)
            cursor = page["cursor"]
            if not page["has_more"]:
                return pages, cursor

    def put_blob(self, data: bytes, sha256: str | None = None,
                 content_type: str = "image/png", **kw):
        return self.client.put(f"/api/v1/blobs/{sha256 or sha(data)}", data=data,
                               headers={**self.headers, "Content-Type": content_type}, **kw)

    def upload(self, data: bytes, content_type: str = "image/png") -> str:
        response = self.put_blob(data, content_type=content_type)
        assert response.status_code in (200, 201), response.get_json()
        return sha(data)

    def head_blob(self, sha256: str):
        return self.client.head(f"/api/v1/blobs/{sha256}", headers=self.headers)

    def get_blob(self, sha256: str):
        return self.client.get(f"/api/v1/blobs/{sha256}", headers=self.headers)


def statuses(answer: dict) -> dict[int, str]:
    return {r["seq"]: r["status"] for r in answer["results"]}


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def strict_json(response):
    """The response's body as a strict parser reads it (a phone's `fetch().json()`): NaN,
    Infinity and -Infinity are refused, and so is text that is not UTF-8."""
    value = json.loads(response.get_data().decode("utf-8"), parse_constant=_refuse_constant)
    # A `\\ud800` escape parses, but the text it makes has no UTF-8 form: refused too.
    json.dumps(value, ensure_ascii=False).encode("utf-8")
    return value


# --- reading the database ------------------------------------------------------------------

def counts(app, job_id: str | None = None) -> dict[str, int]:
    """Rows of everything a mutation can create (optionally for one job)."""
    from fieldapp.extensions import db
    from fieldapp.models import (
        ChecklistAnswer,
        Conflict,
        JobEvent,
        MutationRecord,
        Note,
        PartsRequest,
        Photo,
        Signature,
    )

    models = {"answers": ChecklistAnswer, "photos": Photo, "notes": Note, "events": JobEvent,
              "signatures": Signature, "conflicts": Conflict, "parts": PartsRequest}
    out = {}
    with app.app_context():
        for name, model in models.items():
            stmt = select(func.count()).select_from(model)
            if job_id is not None:
                stmt = stmt.where(model.job_id == job_id)
            out[name] = db.session.execute(stmt).scalar()
        out["mutations"] = db.session.execute(
            select(func.count()).select_from(MutationRecord)).scalar()
        db.session.remove()
    return out


def device_last_seq(app, device_id: str) -> int:
    from fieldapp.extensions import db
    from fieldapp.models import Device

    with app.app_context():
        value = db.session.get(Device, device_id).last_seq
        db.session.remove()
    return value


def job_row(app, job_id: str) -> dict:
    from fieldapp.extensions import db
    from fieldapp.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        out = {"status": job.status, "technician_id": job.technician_id,
               "needs_review": job.needs_review, "change_seq": job.change_seq}
        db.session.remove()
    return out


def blob_files(root: str) -> list[str]:
    """Every file under the blob store's root, relative to it (`.incoming` included)."""
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(found)


def stored_files(store) -> list[str]:
    """What a blob store holds (`ab/cdef...`) and what uploads left in its `.incoming`,
    on files or on S3 alike."""
    if hasattr(store, "names"):  # S3: the objects, and the local temporary files
        left = [os.path.join(".incoming", n) for n in os.listdir(store.incoming)]
        return sorted(store.names() + left)
    return blob_files(store.root)


# --- jobs ----------------------------------------------------------------------------------

def tech_jobs(phone: Phone) -> dict[str, dict]:
    """The phone's jobs by type (from a full pull)."""
    pages, _ = phone.pull_all()
    jobs = {}
    for page in pages:
        for job in page["changes"]["jobs"]:
            jobs[job["id"]] = job
    return jobs


def job_of_type(phone: Phone, type_: str) -> dict:
    return next(j for j in tech_jobs(phone).values() if j["type"] == type_)


def templates_by_id(phone: Phone) -> dict[str, dict]:
    pages, _ = phone.pull_all()
    return {t["id"]: t for page in pages for t in page["changes"]["checklist_templates"]}


def value_for(item: dict):
    kind = item["kind"]
    if kind == "check":
        return True
    if kind == "text":
        return "完成 done"
    if kind == "number":
        return 1
    if kind == "choice":
        return item["options"][0]["value"]
    raise ValueError(kind)


def evidence_mutations(phone: Phone, job: dict, template: dict, *, seed: int = 100,
                       signature: bool = True, skip: frozenset = frozenset()) -> list[dict]:
    """Answers and photos for every required item but `skip`, and the customer's signature
    (blobs uploaded first, as the phone's queue does)."""
    mutations = []
    for index, item in enumerate(template["items"]):
        if not item["required"] or item["key"] in skip:
            continue
        if item["kind"] == "photo":
            for n in range(item.get("min_photos") or 1):
                digest = phone.upload(jpeg_bytes(seed + index * 10 + n), "image/jpeg")
                mutations.append(phone.photo(job["id"], digest, item_key=item["key"]))
        else:
            mutations.append(phone.answer(job["id"], item["key"], value_for(item)))
    if signature:
        mutations.append(phone.signature(job["id"], phone.upload(png_bytes(seed))))
    return mutations


def complete_job(phone: Phone, job: dict, template: dict, *, seed: int = 100) -> dict:
    """Take `job` (scheduled) to completed through pushes; returns the last push answer."""
    batch = [phone.status(job["id"], s) for s in ("en_route", "on_site", "in_progress")]
    batch += evidence_mutations(phone, job, template, seed=seed)
    batch.append(phone.status(job["id"], "completed"))
    answer = phone.push(batch)
    assert all(r["status"] == "applied" for r in answer["results"]), answer
    return answer


def approve(api, job_id: str):
    response = api.post(f"/api/v1/jobs/{job_id}/review", as_="supervisor1",
                        json={"decision": "approve", "comment": "ok"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "approved"
    return response.get_json()


def job_detail(api, job_id: str, as_: str = "dispatcher1") -> dict:
    response = api.get(f"/api/v1/jobs/{job_id}", as_=as_)
    assert response.status_code == 200, response.get_json()
    return response.get_json()

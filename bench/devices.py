"""A simulated technician's phone over real HTTP, shared by `chaos.py` and `load.py`.

It behaves like the PWA's outbox (static/app/js/outbox.js, docs/sync-protocol.md): every
change is a mutation numbered from 1 with no gaps, kept until a push answers for its seq;
pushes go in batches from the head of the outbox and the same batch is sent again when the
answer is lost; the blobs a batch names are uploaded (PUT) before the batch; a pull walks the
cursor page by page and applies `removed`. Network failures of any kind (refused, reset,
timeout, a closed connection without an answer) are retried: the phone cannot tell "never
arrived" from "processed, answer lost", and the protocol makes both safe.

Only the standard library plus Pillow (for real JPEG/PNG bytes the server will accept).
"""
from __future__ import annotations

import hashlib
import http.client
import io
import json
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

PASSWORD = "fieldapp-demo"
FINAL = ("applied", "duplicate", "rejected", "conflict")
NET_ERRORS = (OSError, http.client.HTTPException, socket.timeout, ValueError)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def jpeg_bytes(seed: int, size=(24, 16)) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image.putpixel((0, 0), (seed % 256, (seed >> 8) % 256, (seed >> 16) % 256))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def png_bytes(seed: int, size=(20, 10)) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    image = Image.new("RGB", size, (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image.putpixel((1, 1), (seed % 256, (seed >> 8) % 256, (seed >> 16) % 256))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class GaveUp(Exception):
    pass


class Http:
    """One request per connection (`Connection: close`), retried on any network failure."""

    def __init__(self, host: str, port: int, timeout: float = 10.0, deadline: float = 120.0):
        self.host, self.port, self.timeout, self.deadline = host, port, timeout, deadline
        self.net_errors = 0
        self.latencies: list[float] = []

    def once(self, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            hdrs = {"Connection": "close", **(headers or {})}
            if body is not None:
                hdrs["Content-Length"] = str(len(body))
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=hdrs)
            response = conn.getresponse()
            data = response.read()
            self.latencies.append(time.perf_counter() - started)
            return response.status, data
        finally:
            conn.close()

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict | None = None, retry_5xx: bool = True) -> tuple[int, bytes]:
        """Retry until an HTTP answer (not a 5xx, which a killed worker or a restarting
        server can give) arrives, or `deadline` seconds pass."""
        give_up = time.monotonic() + self.deadline
        pause = 0.05
        while True:
            try:
                status, data = self.once(method, path, body, headers)
                if not (retry_5xx and status >= 500):
                    return status, data
            except NET_ERRORS:
                pass
            self.net_errors += 1
            if time.monotonic() > give_up:
                raise GaveUp(f"{method} {path}: no answer for {self.deadline} s")
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 1.0)


@dataclass
class Outcome:
    """What the server answered for one seq (the final answer, kept by the bench)."""
    seq: int
    mutation: dict
    status: str  # applied | conflict | rejected (a duplicate is folded into its original)
    reason: str | None = None


@dataclass
class Device:
    """One signed-in phone: its outbox, its acknowledged mutations, its local copy of jobs."""

    http: Http
    username: str
    name: str = "phone"
    token: str = ""
    device_id: str = ""
    user: dict = field(default_factory=dict)
    seq: int = 0
    outbox: list = field(default_factory=list)  # [(mutation, blob | None)]
    uploaded: set = field(default_factory=set)
    acked: dict = field(default_factory=dict)  # seq -> Outcome
    cursor: str = ""
    jobs: dict = field(default_factory=dict)  # id -> job as last pulled
    templates: dict = field(default_factory=dict)
    counts: dict = field(default_factory=lambda: {"push": 0, "resent": 0, "duplicate": 0,
                                                  "retry": 0, "seq_gap": 0, "uploads": 0})
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- HTTP helpers --------------------------------------------------------------------
    def _json(self, method, path, payload=None, auth=True):
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        body = None if payload is None else json.dumps(payload).encode()
        status, data = self.http.call(method, path, body, headers)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, {"raw": data[:200].decode("latin-1")}

    def login(self) -> None:
        body = {"username": self.username, "password": PASSWORD, "device_name": self.name}
        if self.device_id:
            body["device_id"] = self.device_id
        status, data = self._json("POST", "/api/v1/auth/login", body, auth=False)
        if status != 200:
            raise RuntimeError(f"login {self.username}: {status} {data}")
        self.token, self.device_id, self.user = data["token"], data["device_id"], data["user"]

    # --- the outbox ----------------------------------------------------------------------
    def record(self, type_: str, job_id: str, args: dict, blob=None) -> dict:
        """A local change: the next mutation in the outbox (blob = (sha, bytes, type))."""
        self.seq += 1
        mutation = {"seq": self.seq, "id": str(uuid.uuid4()), "type": type_, "job_id": job_id,
                    "at": datetime.now(timezone.utc).isoformat(), "args": args}
        self.outbox.append((mutation, blob))
        return mutation

    def upload(self, blob) -> None:
        digest, data, content_type = blob
        if digest in self.uploaded:
            return
        status, answer = self.http.call("PUT", f"/api/v1/blobs/{digest}", data, {
            "Authorization": f"Bearer {self.token}", "Content-Type": content_type})
        if status not in (200, 201):
            raise RuntimeError(f"upload {digest}: {status} {answer[:200]!r}")
        self.counts["uploads"] += 1
        self.uploaded.add(digest)

    def push_once(self, batch_size: int = 10) -> bool:
        """Push the head of the outbox once; True when something was acknowledged."""
        batch = self.outbox[:batch_size]
        for _mutation, blob in batch:
            if blob is not None:
                self.upload(blob)
        self.counts["push"] += 1
        status, answer = self._json("POST", "/api/v1/sync/push", {
            "device_id": self.device_id, "mutations": [m for m, _ in batch]})
        if status == 409 and answer.get("error") == "seq_gap":
            # As the PWA (outbox.js renumberFrom): the server never processed anything we
            # hold, so renumber the pending mutations from the seq it expects; ids stay (the
            # server dedupes by id). Not expected here: the phone only drops answered seqs.
            self.counts["seq_gap"] += 1
            expected = int(answer["details"]["expected_seq"])
            for offset, (mutation, _blob) in enumerate(self.outbox):
                mutation["seq"] = expected + offset
            self.seq = expected + len(self.outbox) - 1
            return False
        if status != 200:
            raise RuntimeError(f"{self.username}: push answered {status} {answer}")
        done = 0
        by_seq = {m["seq"]: (m, b) for m, b in batch}
        for result in answer["results"]:
            seq, state = result["seq"], result["status"]
            mutation, blob = by_seq[seq]
            if state == "retry":
                # A blob the server does not hold (lost with a killed upload): upload again.
                self.counts["retry"] += 1
                if blob is not None:
                    self.uploaded.discard(blob[0])
                break
            if state == "duplicate":
                self.counts["duplicate"] += 1
                state = result.get("original_status") or "applied"
            if state not in FINAL:
                raise RuntimeError(f"unknown status {result}")
            with self.lock:
                self.acked[seq] = Outcome(seq, mutation, state, result.get("reason"))
            done += 1
        # Drop exactly the answered seqs, from the head (answers are in seq order).
        self.outbox = [(m, b) for m, b in self.outbox if m["seq"] not in self.acked]
        return done > 0

    def sync(self, batch_size: int = 10, give_up_after: float = 300.0) -> None:
        """Push until the outbox is empty."""
        end = time.monotonic() + give_up_after
        while self.outbox:
            if not self.push_once(batch_size):
                self.counts["resent"] += 1
                if time.monotonic() > end:
                    raise GaveUp(f"{self.username}: outbox stuck at {self.outbox[0][0]}")
                time.sleep(0.05)

    def pull(self, limit: int = 50) -> None:
        """Pull every page from the cursor; apply changes and removals locally."""
        while True:
            status, page = self._json("GET", f"/api/v1/sync/pull?cursor={self.cursor}"
                                             f"&limit={limit}")
            if status != 200:
                raise RuntimeError(f"{self.username}: pull answered {status} {page}")
            for job in page["changes"]["jobs"]:
                self.jobs[job["id"]] = job
            for template in page["changes"]["checklist_templates"]:
                self.templates[template["id"]] = template
            for job_id in page["removed"]["jobs"]:
                self.jobs.pop(job_id, None)
            self.cursor = page["cursor"]
            if not page["has_more"]:
                return

    # --- doing a job ---------------------------------------------------------------------
    def work_job(self, job: dict, seed: int, rng: random.Random, batch: int = 10,
                 halfway=None, extras: bool = False) -> None:
        """Everything a technician records on one job, offline first, in two halves with a
        sync after each: status moves to in_progress, answers, photos (min per item),
        notes, the customer's signature, completed. With `extras`, also a photo taken
        back, a part asked for, and a product taken away and brought back (`_extras`)."""
        job_id = job["id"]
        path = {"scheduled": ["en_route", "on_site", "in_progress"],
                "en_route": ["on_site", "in_progress"], "on_site": ["in_progress"],
                "paused": ["in_progress"], "rework": ["in_progress"]}.get(job["status"], [])
        if job["status"] not in ("scheduled", "en_route", "on_site", "paused", "rework",
                                 "in_progress"):
            return
        for status in path:
            self.record("job.status", job_id, {"status": status})
        self.record("job.note", job_id, {"text": f"到达现场 arrived {seed}"})
        template = self.templates.get(job.get("checklist_template_id"), {"items": []})
        items = [i for i in template["items"] if i["required"]]
        rng.shuffle(items)
        half = len(items) // 2
        for n, item in enumerate(items):
            if n == half:
                self.sync(batch)
                if halfway is not None:
                    halfway()
            self._evidence(job_id, item, seed * 1000 + n)
        if extras:
            self._extras(job_id, seed)
        self.record("job.note", job_id, {"text": f"完工 done {seed}"})
        data = png_bytes(seed)
        digest = sha(data)
        self.record("signature.capture", job_id, {
            "signature_id": str(uuid.uuid4()), "sha256": digest, "signer_name": "陈女士",
            "signer_relation": "customer"}, blob=(digest, data, "image/png"))
        self.record("job.status", job_id, {"status": "completed"})
        self.sync(batch)

    def _evidence(self, job_id: str, item: dict, seed: int) -> None:
        kind = item["kind"]
        if kind == "photo":
            for n in range(item.get("min_photos") or 1):
                data = jpeg_bytes(seed * 10 + n)
                digest = sha(data)
                self.record("photo.attach", job_id, {
                    "photo_id": str(uuid.uuid4()), "sha256": digest, "item_key": item["key"]},
                    blob=(digest, data, "image/jpeg"))
            return
        value = {"check": True, "text": f"完成 done {seed}", "number": seed % 97 + 1}.get(kind)
        if kind == "choice":
            value = item["options"][0]["value"]
        self.record("checklist.answer", job_id, {"item_key": item["key"], "value": value})

    def _extras(self, job_id: str, seed: int) -> None:
        """The other mutation types (issue 18's chaos run): a photo beyond the checklist's
        attached and taken back, a replacement part asked for, a product taken away for
        repair (the customer signs the receipt) and brought back (the repair slip)."""
        data = jpeg_bytes(seed * 10 + 7)
        photo_id = str(uuid.uuid4())
        self.record("photo.attach", job_id, {"photo_id": photo_id, "sha256": sha(data),
                                             "caption": f"多拍的 extra {seed}"},
                    blob=(sha(data), data, "image/jpeg"))
        self.record("photo.remove", job_id, {"photo_id": photo_id})
        self.record("parts.request", job_id, {
            "request_id": str(uuid.uuid4()), "part_name": "扶手螺丝 M6", "quantity": 2,
            "kind": "replacement", "reason": f"螺丝滑丝 stripped {seed}"})
        receipt_id = str(uuid.uuid4())
        taken, back = png_bytes(seed * 10 + 8), png_bytes(seed * 10 + 9)
        self.record("takeback.receipt", job_id, {
            "receipt_id": receipt_id, "items": [{"name": "沙发扶手 armrest", "quantity": 1}],
            "condition": f"表面轻微划痕 light scratches {seed}",
            "signature_sha256": sha(taken)}, blob=(sha(taken), taken, "image/png"))
        self.record("takeback.return", job_id, {
            "receipt_id": receipt_id, "signature_sha256": sha(back)},
            blob=(sha(back), back, "image/png"))

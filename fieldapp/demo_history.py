"""A few past days of demo work, so that a fresh `make run` shows every screen with something
on it: the review queue, sealed jobs, the return-visit queue (two to call, one overdue; one
answered 2/5 with its complaint and follow-up job), a parts request waiting for approval, a
product out for repair past the register's limit, and the technicians' KPIs.

Everything goes through the real JSON API and sync push, as a phone and the office would
send it, with the app's clock set back to each moment (the app reads "now" from one clock
object), then put back. Only outside production, on the first start or with
`flask seed-demo --history`.
"""
from __future__ import annotations

import hashlib
import io
import uuid
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from PIL import Image, ImageDraw

from fieldapp.accounts.models import User
from fieldapp.core.clock import FixedClock
from fieldapp.extensions import db
from fieldapp.visits import service as return_visits
from fieldapp.web import domain_ctx

CLOCK_KEY = "fieldapp.clock"

# (key, days ago, type, customer, phone, address, product, problem, technician)
HISTORY_JOBS = [
    ("visit_due", 4, "installation", "王女士", "139-1234-0011", "上海市浦东新区张杨路 500 号 18 楼",
     "转角沙发 SF-L280", "转角沙发送货后上门安装", "tech1"),
    ("visit_low", 6, "repair", "钱先生", "139-1234-0012", "上海市黄浦区西藏中路 268 号 1506 室",
     "抽屉柜 DC-6", "抽屉滑轨卡顿，拉不开", "tech2"),
    ("takeback", 9, "repair", "林女士", "139-1234-0013", "上海市虹口区四川北路 1318 号 902 室",
     "布艺沙发 SF-3S", "沙发左扶手木架断裂", "tech1"),
    ("to_review", 1, "delivery", "赵先生", "139-1234-0014", "上海市徐汇区肇嘉浜路 1065 号 7 楼",
     "书桌 DK-120", "书桌送货上门，另需补发螺丝包", "tech2"),
]


def image_bytes(seed: int, fmt: str = "JPEG", size=(320, 240)) -> bytes:
    """A plain coloured picture standing in for a photo or a signature."""
    image = Image.new("RGB", size, (240, 240, 240) if fmt == "PNG" else
                      (90 + seed * 37 % 120, 110 + seed * 53 % 100, 120 + seed * 19 % 90))
    draw = ImageDraw.Draw(image)
    if fmt == "PNG":  # something like a signature stroke
        draw.line([(20, 160), (80, 90), (140, 170), (200, 80), (290, 150)], fill=(20, 20, 60),
                  width=5)
    else:
        draw.rectangle([(40, 40), (size[0] - 40, size[1] - 40)], outline=(250, 250, 250),
                       width=4)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


class _Api:
    """The app's own JSON API through its test client, a bearer token per user."""

    def __init__(self, app, password: str):
        self.client = app.test_client()
        self.password = password
        self.tokens: dict[str, str] = {}
        self.devices: dict[str, str] = {}
        self.seq: dict[str, int] = {}

    def call(self, method: str, path: str, who: str, expect=(200, 201), **kwargs):
        if who not in self.tokens:
            body = self._check(self.client.post("/api/v1/auth/login", json={
                "username": who, "password": self.password, "device_name": "demo history"}),
                (200,), "login")
            self.tokens[who], self.devices[who] = body["token"], body["device_id"]
            self.seq[who] = 0
        response = self.client.open(path, method=method, headers={
            "Authorization": f"Bearer {self.tokens[who]}"}, **kwargs)
        return self._check(response, expect, f"{method} {path}")

    @staticmethod
    def _check(response, expect, what):
        if response.status_code not in expect:
            raise RuntimeError(f"demo history: {what} answered {response.status_code}: "
                               f"{response.get_data(as_text=True)[:300]}")
        return response.get_json(silent=True)

    def upload(self, who: str, data: bytes, content_type: str) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.call("PUT", f"/api/v1/blobs/{digest}", who, data=data, content_type=content_type)
        return digest

    def push(self, who: str, at: datetime, mutations: list[tuple]) -> None:
        batch = []
        for type_, job_id, args in mutations:
            self.seq[who] += 1
            batch.append({"seq": self.seq[who], "id": str(uuid.uuid4()), "type": type_,
                          "job_id": job_id, "at": at.isoformat(), "args": args})
        body = self.call("POST", "/api/v1/sync/push", who, json={
            "device_id": self.devices[who], "mutations": batch})
        refused = [r for r in body["results"] if r["status"] != "applied"]
        if refused:
            raise RuntimeError(f"demo history: push refused {refused}")

    def templates(self, who: str) -> dict:
        found, cursor = {}, ""
        while True:
            body = self.call("GET", f"/api/v1/sync/pull?cursor={cursor}", who)
            for template in body["changes"]["checklist_templates"]:
                found[template["id"]] = template
            cursor = body["cursor"]
            if not body["has_more"]:
                return found


@contextmanager
def _no_scheduler(app):
    """The requests below must not start the in-process scheduler (it would run the timed
    work at the moments the clock is set back to)."""
    key = "fieldapp.scheduler"
    untouched = app.extensions.get(key) is None
    if untouched:
        app.extensions[key] = False
    try:
        yield
    finally:
        if untouched and app.extensions.get(key) is False:
            app.extensions[key] = None


@contextmanager
def _clock_at(app, moment: datetime):
    real = app.extensions[CLOCK_KEY]
    app.extensions[CLOCK_KEY] = FixedClock(moment)
    try:
        yield
    finally:
        app.extensions[CLOCK_KEY] = real


def _checklist(api: _Api, job: dict, who: str, seed: int) -> list[tuple]:
    """Every required item of the job's checklist answered, photos to each item's minimum."""
    template = api.templates(who)[job["checklist_template_id"]]
    mutations = []
    for n, item in enumerate(template["items"]):
        if not item["required"]:
            continue
        if item["kind"] == "photo":
            for k in range(item.get("min_photos") or 1):
                digest = api.upload(who, image_bytes(seed * 10 + n + k), "image/jpeg")
                mutations.append(("photo.attach", job["id"], {
                    "photo_id": str(uuid.uuid4()), "sha256": digest, "item_key": item["key"]}))
            continue
        value = {"check": True, "text": "已完成", "number": 1,
                 "choice": (item.get("options") or [{}])[0].get("value")}[item["kind"]]
        mutations.append(("checklist.answer", job["id"], {"item_key": item["key"],
                                                           "value": value}))
    return mutations


def _signature(api: _Api, job: dict, who: str, seed: int, name: str) -> tuple:
    digest = api.upload(who, image_bytes(seed, "PNG"), "image/png")
    return ("signature.capture", job["id"], {"signature_id": str(uuid.uuid4()),
                                             "sha256": digest, "signer_name": name,
                                             "signer_relation": "本人"})


def seed_history(app, password: str) -> dict:
    """The demo's past: run once after `seed_demo` (whose accounts sign in with `password`;
    given, not imported, as fieldapp/seed.py imports this module), inside an app context.
    Answers the refs made, by scenario."""
    with _no_scheduler(app):
        return _seed_history(app, password)


def _seed_history(app, password: str) -> dict:
    real_now = app.extensions[CLOCK_KEY].now()
    users = {u.username: u.id for u in db.session.query(User).all()}
    api = _Api(app, password)
    tz = business_tz(app)
    today = real_now.astimezone(tz).date()
    spec = {row[0]: row for row in HISTORY_JOBS}
    jobs, refs = {}, {}

    def morning(days_ago: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(9), tz)

    # Intake, the first call within minutes, a visit two hours later.
    for key, days_ago, type_, name, phone, address, product, problem, tech in HISTORY_JOBS:
        registered = morning(days_ago)
        start = registered + timedelta(hours=2)
        with _clock_at(app, registered):
            jobs[key] = api.call("POST", "/api/v1/jobs", "dispatcher1", json={
                "type": type_, "customer": {"name": name, "phone": phone, "address": address},
                "product_model": product, "problem": problem, "channel": "phone",
                "scheduled_start": start.isoformat(),
                "scheduled_end": (start + timedelta(hours=2)).isoformat(),
                "technician_id": users[tech]})
        with _clock_at(app, registered + timedelta(minutes=3)):
            api.call("POST", f"/api/v1/jobs/{jobs[key]['id']}/contact", "dispatcher1",
                     json={"outcome": "reached", "note": "已确认上门时间"})
        refs[key] = jobs[key]["ref"]

    def work(key: str, seed: int, extra: tuple = ()) -> datetime:
        """The technician's visit, synced in three pushes (arrival, the work, sign-off)."""
        job, tech, customer = jobs[key], spec[key][8], spec[key][3]
        arrive = morning(spec[key][1]) + timedelta(hours=2, minutes=10)
        steps = [[("job.status", job["id"], {"status": s})
                  for s in ("en_route", "on_site", "in_progress")],
                 _checklist(api, job, tech, seed) + list(extra),
                 [_signature(api, job, tech, seed, customer),
                  ("job.status", job["id"], {"status": "completed"})]]
        for n, batch in enumerate(steps):
            moment = arrive + timedelta(minutes=50 * n)
            with _clock_at(app, moment + timedelta(seconds=20)):  # reaches the server later
                api.push(tech, moment, batch)
        return arrive + timedelta(minutes=100)

    def approve(key: str, when: datetime) -> None:
        with _clock_at(app, when):
            api.call("POST", f"/api/v1/jobs/{jobs[key]['id']}/review", "supervisor1",
                     json={"decision": "approve", "comment": "证据齐全，同意"})

    # 1. Installed and signed off; its return visit is due now (the office should call).
    approve("visit_due", work("visit_due", 1) + timedelta(hours=3))
    # 2. Repaired and signed off; the return visit found the drawer still sticks (score 2):
    #    a complaint and an urgent follow-up job open by themselves.
    approve("visit_low", work("visit_low", 2) + timedelta(hours=3))
    # 3. A sofa taken away for repair against a signed receipt: out past the register's limit.
    takeback = jobs["takeback"]
    with _clock_at(app, morning(spec["takeback"][1]) + timedelta(hours=2)):
        receipt_signature = api.upload("tech1", image_bytes(31, "PNG"), "image/png")
        photo = api.upload("tech1", image_bytes(32), "image/jpeg")
    approve("takeback", work("takeback", 3, extra=(("takeback.receipt", takeback["id"], {
        "receipt_id": str(uuid.uuid4()), "receipt_no": f"{refs['takeback']}-T1",
        "items": [{"name": "布艺沙发 SF-3S 左扶手", "quantity": 1}],
        "condition": "左扶手木架断裂，面料完好", "signature_sha256": receipt_signature,
        "photo_sha256s": [photo], "signer_name": "林女士"}),)) + timedelta(hours=3))
    # 4. Delivered yesterday with a supplementary part asked for: waiting for review.
    work("to_review", 4, extra=(("parts.request", jobs["to_review"]["id"], {
        "request_id": str(uuid.uuid4()), "part_name": "螺丝包 M6", "quantity": 1,
        "kind": "supplementary", "reason": "包装内缺少螺丝包"}),))

    # The return visits the scheduler's daily run would have made, and one call made.
    with _clock_at(app, real_now - timedelta(hours=1)), app.test_request_context():
        return_visits.create_due(domain_ctx())
        db.session.commit()
    [low] = api.call("GET", f"/api/v1/return-visits?job_id={jobs['visit_low']['id']}",
                     "dispatcher1")["items"]
    with _clock_at(app, real_now - timedelta(minutes=30)):
        api.call("POST", f"/api/v1/return-visits/{low['id']}/result", "dispatcher1",
                 json={"score": 2, "comment": "师傅态度好，但问题没解决",
                       "issues": "抽屉还是卡，拉不开"})
    # Sign the seeding "phones" out, so no one is told these devices went silent.
    for who in list(api.tokens):
        api.call("POST", "/api/v1/auth/logout", who, expect=(200, 204))
    return refs


def business_tz(app):
    """The business's time zone (the desk settings' policy) outside a request."""
    with app.test_request_context():
        return domain_ctx().policy.tz

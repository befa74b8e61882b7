"""Many realistic jobs, fast: customers, jobs and their SLA clocks bulk-inserted with
`session.execute(insert(Model), rows)` (one statement per table and batch, no ORM objects).
Used by bench/dispatch_bench.py and by tests/dispatch/test_scale.py, which checks the desk's
searches and lists against the facts returned here.

The jobs spread evenly over the days before and including `today` (`per_day` a day, 200 by
default, like a busy office), so the board of any one day holds the same number of visits
whatever the total: 1,000 jobs are 5 days, 100,000 jobs 500 days. Older jobs are closed
(approved or cancelled, their clocks met); the last week's are open in every status, some
unassigned.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert

from fieldapp.jobs import counters, search_index
from fieldapp.jobs.service import active_template
from fieldapp.models import Customer, Job, SlaClock

SURNAMES = "陈李张王刘杨赵黄周吴徐孙胡朱高林何郭马罗"
TITLES = ("女士", "先生")
TYPES = ("repair", "delivery", "installation", "inspection")
DISTRICTS = ("浦东新区", "徐汇区", "静安区", "闵行区", "长宁区", "杨浦区", "普陀区", "宝山区")
OPEN_MIX = ("new", "scheduled", "scheduled", "en_route", "on_site", "in_progress", "paused",
            "completed", "unsuccessful", "rework")
REF_BASE = 5000  # bulk refs FAyymmdd-5001...: clear of the ones intake numbers from 1


@dataclass
class Facts:
    jobs: list[dict] = field(default_factory=list)       # the rows inserted, in order
    customers: list[dict] = field(default_factory=list)

    def by_phone_key(self, key: str) -> list[dict]:
        ids = {c["id"] for c in self.customers if c["phone_key"] == key}
        return [j for j in self.jobs if j["customer_id"] in ids]


def _uuid(rng: random.Random) -> str:
    return "%08x-%04x-4%03x-a%03x-%012x" % (rng.getrandbits(32), rng.getrandbits(16),
                                             rng.getrandbits(12), rng.getrandbits(12),
                                             rng.getrandbits(48))


def make_jobs(session, n: int, *, today: date, tz, technician_ids: list[int],
              creator_id: int | None = None, per_day: int = 200, seed: int = 7,
              batch: int = 5000) -> Facts:
    rng = random.Random(seed)
    templates = {t: active_template(session, t).id for t in TYPES}
    facts = Facts()
    days = max(1, -(-n // per_day))
    first_day = today - timedelta(days=days - 1)
    # One change number for the whole load, as for any one transaction's rows (on PostgreSQL
    # the counter's value is the base of the numbers and must not move: fieldapp.jobs.counters).
    change_seq = counters.bump(session)
    # About two jobs per customer: returning customers are the rule in after-sales.
    n_customers = max(1, n // 2)
    for c in range(n_customers):
        name = SURNAMES[c % len(SURNAMES)] + TITLES[(c // len(SURNAMES)) % 2]
        phone = f"137{c:08d}"
        created = datetime.combine(first_day - timedelta(days=30), time(9), tz)
        facts.customers.append({
            "id": _uuid(rng), "name": name, "phone": phone, "phone_key": phone,
            "address": f"上海市{DISTRICTS[c % len(DISTRICTS)]}示例路 {c % 999 + 1} 号",
            "email": None, "created_at": created})
    clocks = []
    for i in range(n):
        day = first_day + timedelta(days=i // per_day)
        age = (today - day).days
        customer = facts.customers[rng.randrange(n_customers)]
        type_ = TYPES[i % 4]
        hour = 8 + (i % per_day) % 10
        start = datetime.combine(day, time(hour, 30 * (i % 2)), tz)
        created = start - timedelta(days=1, hours=rng.randrange(0, 8))
        if age > 7:
            status = "approved" if rng.random() < 0.92 else "cancelled"
        else:
            status = OPEN_MIX[rng.randrange(len(OPEN_MIX))]
        technician = None if status == "new" else technician_ids[i % len(technician_ids)]
        scheduled = status != "new" or rng.random() < 0.5
        job = {
            "id": _uuid(rng), "ref": f"FA{created.astimezone(tz):%y%m%d}-{REF_BASE + i:06d}",
            "type": type_, "status": status, "customer_id": customer["id"],
            "contact_name": customer["name"], "contact_phone": customer["phone"],
            "address": customer["address"], "product_model": f"MODEL-{i % 97:02d}",
            "problem": "批量生成的测试工单", "channel": ("phone", "store", "online", "email")[i % 4],
            "priority": "urgent" if i % 17 == 0 else "normal",
            "scheduled_start": start if scheduled else None,
            "scheduled_end": start + timedelta(hours=2) if scheduled else None,
            "technician_id": technician,
            "checklist_template_id": templates[type_], "created_by_id": creator_id,
            "created_at": created, "updated_at": created, "needs_review": i % 211 == 0,
            "change_seq": change_seq,
            "completed_at": start + timedelta(hours=2) if status in ("completed", "approved")
            else None,
            "approved_at": start + timedelta(hours=5) if status == "approved" else None,
        }
        facts.jobs.append(job)
        done = status in ("approved", "completed")
        contacted = age > 0 or done or i % 2 == 0  # today, half are still to be phoned
        for name, due, met in (
                ("first_contact", created + timedelta(minutes=5),
                 created + timedelta(minutes=3) if contacted else None),
                ("response", created + timedelta(hours=24),
                 created + timedelta(hours=1) if technician else None),
                ("resolution", created + timedelta(days=3),
                 job["completed_at"] if done else None)):
            clocks.append({"job_id": job["id"], "name": name, "started_at": created,
                           "due_at": due, "met_at": met, "unit": "hours",
                           # as services.jobs.transition does when a job closes
                           "stopped_at": job["updated_at"]
                           if met is None and status in ("approved", "cancelled") else None})
    with search_index.bulk_insert(session):
        for rows, model in ((facts.customers, Customer), (facts.jobs, Job), (clocks, SlaClock)):
            for k in range(0, len(rows), batch):
                session.execute(insert(model), rows[k:k + batch])
    session.commit()
    return facts

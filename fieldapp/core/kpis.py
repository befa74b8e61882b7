"""Service KPIs per technician and for the team, over plain job dicts (no database).

A job dict has: id, technician_id, customer_id, product_model, status, created_at,
scheduled_start, scheduled_end, first_on_site_at (the first move to on_site), completed_at,
reworked (ever sent back), required_total and required_met (required checklist items and how
many are satisfied), and optionally followup_at (when the return visit on it opened a follow-up
job). Targets are the business's own (seed-rules.md section 8.3).

Satisfaction comes from answered return visits (回访, {technician_id, score 1-5, answered_at}):
the share of answers scoring 4 or 5 ("satisfied", the top two boxes of the 5-point scale), which
is what the target "satisfaction at least 90 %" is measured against; the mean score is shown
beside it. A visit counts in the range it was answered in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

REPEAT_WINDOW = timedelta(days=30)
RESOLUTION_LIMIT = timedelta(hours=24)
SATISFIED_FROM = 4  # of 5
DONE = ("completed", "approved")

# seed-rules.md 8.3: on-time >= 90 %, satisfaction >= 90 %, after-sales problems solved within
# 24 h, resolution rate >= 95 %. "Within 24 h" is measured as a share (no target share is
# given: every job, i.e. 100 %); compliance and first-time fix have no stated target.
TARGETS = {"on_time": 0.90, "satisfaction": 0.90, "within_24h": 1.0, "resolution": 0.95}


@dataclass
class Ratio:
    num: int = 0
    den: int = 0

    def add(self, ok: bool | None) -> None:
        if ok is None:
            return
        self.den += 1
        self.num += 1 if ok else 0

    @property
    def value(self) -> float | None:
        return self.num / self.den if self.den else None


@dataclass
class Row:
    name: str
    technician_id: int | None
    jobs_done: int = 0
    on_time: Ratio = field(default_factory=Ratio)
    compliance: Ratio = field(default_factory=Ratio)
    first_time_fix: Ratio = field(default_factory=Ratio)
    within_24h: Ratio = field(default_factory=Ratio)
    resolution: Ratio = field(default_factory=Ratio)
    satisfaction: Ratio = field(default_factory=Ratio)  # answers scoring 4 or 5
    score_total: int = 0
    complaints: int | None = None      # None: no complaint records to count

    @property
    def mean_score(self) -> float | None:
        """The mean return-visit score (1-5) over the answers counted in `satisfaction`."""
        return self.score_total / self.satisfaction.den if self.satisfaction.den else None


def on_time(job: dict) -> bool | None:
    """Arrived inside the agreed window (None: no window or never on site)."""
    start, end, at = job.get("scheduled_start"), job.get("scheduled_end"), \
        job.get("first_on_site_at")
    if start is None or end is None or at is None:
        return None
    return start <= at <= end


def compliant(job: dict) -> bool | None:
    """Every required checklist item satisfied at completion."""
    if job.get("required_total") is None:
        return None
    return job["required_met"] >= job["required_total"]


def repeat_visit(job: dict, jobs: list[dict]) -> bool:
    """Another job for the same customer and product model opened within 30 days after this
    one was completed: the problem came back."""
    done = job.get("completed_at")
    if done is None:
        return False
    followup = job.get("followup_at")
    if followup is not None and done < followup <= done + REPEAT_WINDOW:
        return True  # its return visit found the problem still there
    return any(other["id"] != job["id"] and other["customer_id"] == job["customer_id"]
               and other["product_model"] == job["product_model"]
               and done < other["created_at"] <= done + REPEAT_WINDOW
               for other in jobs)


def first_time_fix(job: dict, jobs: list[dict]) -> bool | None:
    """Approved without rework and no repeat visit (None: not approved yet)."""
    if job["status"] != "approved":
        return None
    return not job.get("reworked") and not repeat_visit(job, jobs)


def within_24h(job: dict) -> bool | None:
    if job.get("completed_at") is None:
        return None
    return job["completed_at"] - job["created_at"] <= RESOLUTION_LIMIT


def compute(jobs: list[dict], start: datetime, end: datetime, names: dict[int, str],
            all_jobs: list[dict] | None = None, complaints: list[dict] | None = None,
            team_name: str = "team",
            visits: list[dict] | None = None) -> tuple[list[Row], Row]:
    """Rows per technician (sorted by name) and the team row, for jobs in [start, end):
    done-measures for jobs completed in the range; resolution rate over jobs opened in it
    (cancelled ones excluded). `all_jobs` (default `jobs`) is where repeat visits are looked
    for; `complaints` ({technician_id, created_at}) None means there is nothing to count;
    `visits` are the answered return visits ({technician_id, score, answered_at})."""
    all_jobs = jobs if all_jobs is None else all_jobs
    rows: dict[int, Row] = {}
    team = Row(team_name, None)

    def row_for(tech_id):
        if tech_id not in rows:
            rows[tech_id] = Row(names.get(tech_id, str(tech_id)), tech_id)
        return rows[tech_id]

    for visit in visits or ():
        at, score = visit.get("answered_at"), visit.get("score")
        if at is None or score is None or not start <= at < end:
            continue
        tech = visit.get("technician_id")
        for row in [team] + ([row_for(tech)] if tech is not None else []):
            row.satisfaction.add(score >= SATISFIED_FROM)
            row.score_total += score
    for job in jobs:
        tech = job.get("technician_id")
        targets = [team] + ([row_for(tech)] if tech is not None else [])
        done = job.get("completed_at") is not None and job["status"] in DONE \
            and start <= job["completed_at"] < end
        opened = start <= job["created_at"] < end and job["status"] != "cancelled"
        for row in targets:
            if done:
                row.jobs_done += 1
                row.on_time.add(on_time(job))
                row.compliance.add(compliant(job))
                row.first_time_fix.add(first_time_fix(job, all_jobs))
                row.within_24h.add(within_24h(job))
            if opened:
                row.resolution.add(job["status"] in DONE)
    if complaints is not None:
        team.complaints = 0
        for row in rows.values():
            row.complaints = 0
        for complaint in complaints:
            if not start <= complaint["created_at"] < end:
                continue
            team.complaints += 1
            tech = complaint.get("technician_id")
            if tech is not None:
                row_for(tech).complaints = (row_for(tech).complaints or 0) + 1
    return sorted(rows.values(), key=lambda r: r.name), team


def meets(measure: str, value: float | None) -> bool | None:
    target = TARGETS.get(measure)
    if target is None or value is None:
        return None
    return value >= target - 1e-9

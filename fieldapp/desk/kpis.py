"""Reads jobs, events, reviews, complaints and return visits into the plain dicts
fieldapp/core/kpis.py measures."""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from fieldapp.accounts.models import User
from fieldapp.complaints.models import Complaint
from fieldapp.core import kpis as kpi_rules
from fieldapp.core.clock import ensure_aware
from fieldapp.jobs.models import Job, Review
from fieldapp.jobs.service import unmet_items
from fieldapp.parts import service as parts_service
from fieldapp.visits.models import ReturnVisit


def job_rows(session: Session, start: datetime, end: datetime) -> list[dict]:
    jobs = session.execute(select(Job).where(or_(
        Job.created_at >= start, Job.completed_at >= start))).scalars().all()
    ids = [j.id for j in jobs]
    reworked: set[str] = set()
    followups: dict[str, datetime] = {}
    if ids:
        reworked = set(session.execute(select(Review.job_id).where(
            Review.job_id.in_(ids), Review.decision == "rework")).scalars())
        # A follow-up job its return visit opened: the problem was not fixed first time.
        for job_id, opened_at in session.execute(
                select(ReturnVisit.job_id, Job.created_at)
                .join(Job, Job.id == ReturnVisit.followup_job_id)
                .where(ReturnVisit.job_id.in_(ids))):
            followups[job_id] = ensure_aware(opened_at)
    ctx = SimpleNamespace(session=session)
    out = []
    for job in jobs:
        required = [i for i in job.template.items if i.required]
        unmet = {u.key for u in unmet_items(ctx, job)} if job.completed_at else set()
        out.append({
            "id": job.id, "technician_id": job.technician_id, "customer_id": job.customer_id,
            "product_model": job.product_model, "status": job.status,
            "created_at": ensure_aware(job.created_at),
            "scheduled_start": ensure_aware(job.scheduled_start) if job.scheduled_start else None,
            "scheduled_end": ensure_aware(job.scheduled_end) if job.scheduled_end else None,
            # Time of record (issue 16): when they arrived by the phone's corrected clock,
            # not when an offline push reached the server (nor the phone's raw clock).
            "first_on_site_at": ensure_aware(job.arrived_at) if job.arrived_at else None,
            "completed_at": ensure_aware(job.completed_at) if job.completed_at else None,
            "reworked": job.id in reworked,
            "followup_at": followups.get(job.id),
            "required_total": len(required),
            "required_met": len([i for i in required if i.key not in unmet]),
        })
    return out


def complaint_rows(session: Session, start: datetime, end: datetime) -> list[dict] | None:
    return [{"technician_id": c.about_technician_id, "created_at": ensure_aware(c.created_at)}
            for c in session.execute(select(Complaint).where(
                Complaint.created_at >= start, Complaint.created_at < end)).scalars()]


def visit_rows(session: Session, start: datetime, end: datetime) -> list[dict]:
    """Return visits answered in [start, end)."""
    return [{"technician_id": v.technician_id, "score": v.score,
             "answered_at": ensure_aware(v.answered_at)}
            for v in session.execute(select(ReturnVisit).where(
                ReturnVisit.answered_at >= start, ReturnVisit.answered_at < end,
                ReturnVisit.score.is_not(None))).scalars()]


def kpi_report(session: Session, start: datetime, end: datetime, team_name: str) -> dict:
    jobs = job_rows(session, start, end)
    names = {u.id: u.display_name for u in session.execute(
        select(User).where(User.role == "technician")).scalars()}
    rows, team = kpi_rules.compute(jobs, start, end, names,
                                   complaints=complaint_rows(session, start, end),
                                   team_name=team_name,
                                   visits=visit_rows(session, start, end))
    return {"rows": rows, "team": team, "targets": kpi_rules.TARGETS}


def kpi_page(session: Session, since: datetime, until: datetime, team_name: str) -> dict:
    """/review/kpis: the report, and the records the business measures beside the KPIs
    (seed-rules.md 7, 9.7): parts by cause and take-backs by product model, same days."""
    return {"report": kpi_report(session, since, until, team_name),
            "by_cause": parts_service.parts_by_cause(session, since, until),
            "by_model": parts_service.takebacks_by_model(session, since, until)}

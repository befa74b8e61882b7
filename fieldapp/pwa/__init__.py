"""The technician's face at /app/."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from fieldapp.core.roles import TECHNICIAN
from fieldapp.extensions import db
from fieldapp.models import Job
from fieldapp.auth import role_required
from fieldapp.web import clock, domain_ctx

bp = Blueprint("pwa", __name__, url_prefix="/app")


@bp.route("/")
@role_required({TECHNICIAN})
def home():
    # Until the offline app lands (issue 4), a plain server-rendered list of today's jobs.
    tz = domain_ctx().policy.tz
    today = clock().now().astimezone(tz).date()
    start = datetime.combine(today, time(0), tz)
    jobs = db.session.execute(
        select(Job).where(Job.technician_id == current_user.id,
                          Job.scheduled_start >= start,
                          Job.scheduled_start < start + timedelta(days=1))
        .order_by(Job.scheduled_start)).scalars().all()
    return render_template("pwa/today.html", jobs=jobs, tz=tz, today=today)

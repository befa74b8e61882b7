"""The dispatcher's desk at /dispatch/."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from fieldapp.core.roles import DISPATCH_ROLES
from fieldapp.extensions import db
from fieldapp.models import Job
from fieldapp.auth import role_required
from fieldapp.services.views import clocks_for, sla_list
from fieldapp.web import clock, domain_ctx

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch")


@bp.route("/")
@role_required(DISPATCH_ROLES)
def board():
    jobs = db.session.execute(select(Job).order_by(Job.created_at.desc()).limit(200)
                              ).scalars().all()
    clocks = clocks_for(db.session, [j.id for j in jobs])
    now = clock().now()
    rows = [(job, sla_list(clocks[job.id], now)) for job in jobs]
    return render_template("dispatch/board.html", rows=rows, tz=domain_ctx().policy.tz)

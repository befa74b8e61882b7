"""The supervisor's review queue at /review/."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from fieldapp.core import states
from fieldapp.core.roles import REVIEW_ROLES
from fieldapp.extensions import db
from fieldapp.models import Job
from fieldapp.auth import role_required
from fieldapp.web import domain_ctx

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.route("/")
@role_required(REVIEW_ROLES)
def queue():
    jobs = db.session.execute(select(Job).where(Job.status == states.COMPLETED)
                              .order_by(Job.completed_at)).scalars().all()
    return render_template("review/queue.html", jobs=jobs, tz=domain_ctx().policy.tz)

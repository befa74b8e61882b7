"""The public seal check: the QR code on a service report opens /verify/<digest> for anyone
holding the paper, the customer included, with no login.

The seal's digest (256 bits, printed on the report) is the capability: whoever can type it
already holds the report. The page recomputes the seal now and says whether the record still
matches, showing only what the report itself shows; what changed is for the supervisors'
/review/verify page."""
from __future__ import annotations

import re

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select

from fieldapp.extensions import db, limiter
from fieldapp.jobs.models import Job
from fieldapp.sealing.models import Seal
from fieldapp.sealing.service import verify_job

bp = Blueprint("verify", __name__, template_folder="templates", url_prefix="/verify")

DIGEST = re.compile(r"[0-9a-f]{64}")


@bp.route("/<digest>")
@limiter.limit("30 per minute")
def seal_page(digest: str):
    if not DIGEST.fullmatch(digest):
        abort(404)
    seal = db.session.execute(select(Seal).where(Seal.digest == digest)).scalar_one_or_none()
    if seal is None:
        abort(404)
    _seal, problems = verify_job(db.session, seal.job_id)
    job = db.session.get(Job, seal.job_id)
    return render_template("verify/seal.html", seal=seal, ok=not problems, job=job,
                           tz=current_app.extensions["fieldapp.policy"].tz)

"""The supervisor's notifications (/review/notifications) and a read-only complaint page
(/review/complaints/<id>): supervisors are told of escalations and late complaints, and read
what they were told about here; the desk keeps changing them."""
from __future__ import annotations

from flask import abort, render_template

from fieldapp.complaints import service as complaint_service
from fieldapp.core.errors import DomainError
from fieldapp.desk import pages
from fieldapp.extensions import db
from fieldapp.faces.shared import add_notification_pages
from fieldapp.web import DeskLabels, clock, domain_ctx, web_actor

from .blueprint import bp

add_notification_pages(bp, "review/_layout.html")


@bp.route("/complaints/<complaint_id>")
def complaint_page(complaint_id):
    try:
        complaint = complaint_service.get_complaint(domain_ctx(), web_actor(), complaint_id,
                                                    read_only=True)
    except DomainError:
        abort(404)
    return render_template(
        "review/complaint.html", c=complaint, tz=domain_ctx().policy.tz, dl=DeskLabels,
        **pages.review_complaint(db.session, complaint, clock().now()))

"""The desk's notifications page (/dispatch/notifications), the outbox of deliveries with the
failed ones and a retry button (/dispatch/deliveries), and the bell with the unread count that
the office pages show (the template global `notification_bell`)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from fieldapp.core.roles import DISPATCH_ROLES, OFFICE_ROLES
from fieldapp.db import begin_write
from fieldapp.desk import pages
from fieldapp.extensions import db
from fieldapp.faces.shared import add_notification_pages
from fieldapp.notifications import service
from fieldapp.notifications.models import Delivery
from fieldapp.web import domain_ctx

from .blueprint import bp

DELIVERY_LABELS = {"pending": _l("Queued"), "sending": _l("Sending"), "sent": _l("Sent"),
                   "logged": _l("Logged only (not configured)"), "failed": _l("Failed")}


class RetryForm(FlaskForm):
    pass


add_notification_pages(bp, "dispatch/layout.html")


@bp.route("/deliveries")
def deliveries():
    status = request.args.get("status") or ""
    if status and status not in service.DELIVERY_STATUSES:
        status = ""
    return render_template("notifications/deliveries.html", status=status,
                           **pages.deliveries_page(db.session, status),
                           statuses=service.DELIVERY_STATUSES,
                           form=RetryForm(formdata=None), tz=domain_ctx().policy.tz,
                           max_attempts=service.MAX_ATTEMPTS,
                           delivery_status=lambda s: str(DELIVERY_LABELS.get(s, s)))


@bp.route("/deliveries/<int:delivery_id>/retry", methods=["POST"])
def delivery_retry(delivery_id):
    if not RetryForm().validate_on_submit():
        abort(400)
    begin_write(db.session)
    if db.session.get(Delivery, delivery_id) is None:
        abort(404)
    if service.retry(domain_ctx(), delivery_id):
        db.session.commit()
        flash(_("Delivery %(id)s queued again.", id=delivery_id), "ok")
    else:
        db.session.rollback()
        flash(_("Only a failed delivery can be retried."), "error")
    return redirect(url_for("dispatch.deliveries", status=request.args.get("status") or None))


@bp.app_context_processor
def bell():
    def notification_bell():
        """(url, unread count) for an office user; None for anyone else."""
        if not getattr(current_user, "is_authenticated", False) or \
                current_user.role not in OFFICE_ROLES:
            return None
        endpoint = "dispatch.notifications" if current_user.role in DISPATCH_ROLES \
            else "review.notifications"
        return url_for(endpoint), service.unread_count(db.session, current_user.id)

    return {"notification_bell": notification_bell,
            "can_see_deliveries": lambda: getattr(current_user, "is_authenticated", False)
            and current_user.role in DISPATCH_ROLES}


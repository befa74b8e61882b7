"""Page pieces more than one face shows (a face never imports another face): the
notifications list and its "mark read" (desk and review), the take-back PDFs (desk and
review), the service report mailed to the customer on approval (API and review)."""
from __future__ import annotations

import logging

from flask import (
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField

from fieldapp.core.roles import SUPERVISOR
from fieldapp.db import begin_write
from fieldapp.extensions import db
from fieldapp.jobs.models import Job
from fieldapp.notifications import service
from fieldapp.notifications import service as notifications
from fieldapp.parts.documents import pdf_response
from fieldapp.parts.models import Takeback
from fieldapp.web import document_language, domain_ctx


class ReadForm(FlaskForm):
    notification_id = HiddenField()


def link_for(notification, role: str) -> str | None:
    """Where a notification leads, on the reader's own face."""
    review = role == SUPERVISOR
    if notification.complaint_id:
        return url_for("review.complaint_page" if review else "dispatch.complaint_page",
                       complaint_id=notification.complaint_id)
    if notification.job_id:
        return url_for("review.job_page" if review else "dispatch.job_page",
                       job_id=notification.job_id)
    if notification.kind.startswith("sla_") and not review:  # several clocks in one notice
        return url_for("dispatch.breaches")
    return None


def notifications_page(layout: str, read_endpoint: str):
    unread_only = request.args.get("unread") == "1"
    rows = service.for_user(db.session, current_user.id, unread_only=unread_only, limit=200)
    return render_template("notifications/list.html", layout=layout, rows=rows,
                           unread_only=unread_only, read_endpoint=read_endpoint,
                           link_for=lambda n: link_for(n, current_user.role),
                           form=ReadForm(formdata=None), tz=domain_ctx().policy.tz,
                           unread=service.unread_count(db.session, current_user.id))


def add_notification_pages(bp, layout: str) -> None:
    """/notifications and its "mark read" on an office face's blueprint (the desk's, the
    review's), as `<face>.notifications` and `<face>.notifications_read`."""
    bp.add_url_rule("/notifications", "notifications",
                    lambda: notifications_page(layout, f"{bp.name}.notifications_read"))
    bp.add_url_rule("/notifications/read", "notifications_read",
                    lambda: mark_read(f"{bp.name}.notifications"), methods=["POST"])


def mark_read(page_endpoint: str):
    form = ReadForm()
    if not form.validate_on_submit():
        abort(400)
    raw = (form.notification_id.data or "").strip()
    if raw and not raw.isdigit():
        abort(400)
    begin_write(db.session)
    changed = service.mark_read(domain_ctx(), current_user.id, int(raw) if raw else None)
    db.session.commit()
    if raw and not changed:
        flash(_("That notification was already read."), "info")
    return redirect(url_for(page_endpoint, **({"unread": "1"}
                                               if request.args.get("unread") == "1" else {})))


def takeback_pdf_response(receipt_id: str, kind: str):
    """Shared by /review and /dispatch: the receipt or the repair slip."""
    if kind not in ("receipt", "repair-slip"):
        abort(404)
    takeback = db.session.get(Takeback, receipt_id) if len(receipt_id) <= 36 else None
    if takeback is None:
        abort(404)
    return pdf_response(takeback, "receipt" if kind == "receipt" else "slip",
                        document_language())


def email_customer(job: Job) -> str | None:
    """After approval: the sealed report to the customer, when an address is known, through
    the notification outbox (fieldapp/notifications/service.py): queued here, sent by the
    scheduler's `deliveries` task with retries, the PDF rendered when it is sent. Answers
    'queued' (or 'already queued'), or None (no address). A failure is logged, never raised:
    the approval is already committed; /dispatch/deliveries shows what did not go out."""
    address = job.customer.email if job.customer else None
    if not address:
        return None
    try:
        begin_write(db.session)
        company = current_app.config.get("COMPANY_NAME")
        created = notifications.send_to_customer(
            domain_ctx(), "service_report", email=address,
            subject=_l("Service record %(ref)s", ref=job.ref),
            body=_l("Dear %(name)s,\n\nattached is the service record of your job %(ref)s, "
                    "signed off by our supervisor.\n\n%(company)s",
                    name=job.contact_name, ref=job.ref,
                    company=company or _l("After-sales service department")),
            key=f"service_report:{job.id}", job_id=job.id,
            attachments=[{"type": "report_pdf", "job_id": job.id, "lang": "zh",
                          "filename": f"service-record-{job.ref}.pdf",
                          # the QR's link when PUBLIC_BASE_URL is unset: this request's host
                          "base_url": request.host_url if has_request_context() else None}])
        db.session.commit()
        return "queued" if created else "already queued"
    except Exception:  # noqa: BLE001 - the sign-off stands; the office can resend
        db.session.rollback()
        logging.getLogger("fieldapp.mailer").exception("report mail for %s failed", job.ref)
        return "failed"

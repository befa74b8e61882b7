"""The take-back register at /dispatch/takebacks (dispatchers, admins): every product out for
repair against a signed receipt, since when, overdue ones highlighted, each with its
follow-up job to schedule; the receipts and repair slips as PDFs; take-backs by product
model. Admins set after how many days a take-back is overdue. Issue 8."""
from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from fieldapp.desk import pages
from fieldapp.extensions import db
from fieldapp.faces.shared import takeback_pdf_response
from fieldapp.parts import service as parts_service
from fieldapp.web import clock, domain_ctx, flashed, office_action, web_actor

from .blueprint import bp


class OverdueForm(FlaskForm):
    overdue_days = IntegerField(validators=[InputRequired(), NumberRange(1, 365)])


@bp.route("/takebacks")
def takebacks():
    status = request.args.get("status") or "out"
    if status not in ("out", "returned", "all"):
        abort(400)
    now = clock().now()
    register = pages.takeback_register(db.session, web_actor().user, status, now)
    return render_template("dispatch/takebacks.html", rows=register.rows, status=status,
                           now=now, days=register.days, overdue=register.overdue,
                           out_total=register.out_total, overdue_total=register.overdue_total,
                           by_model=register.by_model,
                           form=OverdueForm(overdue_days=register.days),
                           tz=domain_ctx().policy.tz)


@bp.route("/takebacks/settings", methods=["POST"])
def takeback_settings():
    form = OverdueForm()
    back = url_for("dispatch.takebacks")
    if not form.validate_on_submit():
        return flashed(_("Overdue after: a whole number of days from 1 to 365."), back, "error")
    return office_action(
        lambda: parts_service.set_overdue_days(domain_ctx(), web_actor(), form.overdue_days.data),
        lambda _none: flashed(_("Take-backs are now overdue after %(n)d days.",
                                n=form.overdue_days.data), back),
        back=back, refused=lambda error: abort(403) if error.status == 403 else None)


@bp.route("/takebacks/<receipt_id>/<kind>.pdf")
def takeback_pdf(receipt_id, kind):
    return takeback_pdf_response(receipt_id, kind)

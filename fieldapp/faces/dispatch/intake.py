"""Intake: the after-sales problem registration form (售后问题登记表), and the returning
customer's history by phone number (static/dispatch/intake.js asks /customers/lookup)."""
from __future__ import annotations

from flask import jsonify, render_template, request, url_for
from flask_babel import gettext as _

from fieldapp import labels
from fieldapp.core.clock import iso
from fieldapp.desk import service as desk
from fieldapp.extensions import db
from fieldapp.jobs import service as job_service
from fieldapp.web import clock, domain_ctx, flashed, office_action, web_actor

from .blueprint import bp
from .board import technician_choices
from .forms import COMPLAINT_STATUS_LABELS, IntakeForm

# Where a refused intake points in the form.
ERROR_FIELDS = {"bad_phone": "phone", "bad_schedule": "end", "schedule_required": "start",
                "unknown_technician": "technician_id", "bad_type": "type"}


def problem_text(problem: str, symptoms: str | None) -> str:
    problem = problem.strip()
    symptoms = (symptoms or "").strip()
    return f"{problem}\n{_('Fault symptoms')}: {symptoms}" if symptoms else problem


@bp.route("/intake", methods=["GET", "POST"])
def intake():
    ctx = domain_ctx()
    form = IntakeForm()
    form.technician_id.choices = technician_choices(_("— Not yet —"))
    if request.method == "GET":
        form.day.data = form.day.data or desk.local_today(clock().now(), ctx.policy)
        if request.args.get("phone"):
            form.phone.data = request.args["phone"]
    if request.method == "POST":
        def refused():
            db.session.rollback()
            return render_template("dispatch/intake.html", form=form), 400

        if not form.validate():
            return refused()
        start, end = form.window(ctx.policy.tz)
        return office_action(
            lambda: job_service.intake(ctx, web_actor(), {
                "type": form.type.data,
                "customer": {"name": form.name.data.strip(),
                             "phone": form.phone.data.strip(),
                             "address": form.address.data.strip()},
                "product_model": form.product_model.data.strip(),
                "problem": problem_text(form.problem.data, form.symptoms.data),
                "channel": form.channel.data, "priority": form.priority.data,
                "scheduled_start": start, "scheduled_end": end,
                "technician_id": form.technician_id.data}),
            lambda job: flashed(_("Registered as %(ref)s. Phone the customer now: the "
                                  "first-contact clock is running.", ref=job.ref),
                                url_for("dispatch.job_page", job_id=job.id)),
            render=refused, form=form, fields=ERROR_FIELDS)
    return render_template("dispatch/intake.html", form=form)


@bp.route("/customers/lookup")
def customer_lookup():
    """A returning customer, recognised by phone: who they are and their history."""
    found = desk.customer_history(db.session, request.args.get("phone", ""))
    if found is None:
        return jsonify({"found": False})
    tz = domain_ctx().policy.tz
    customer = found["customer"]

    def local(value):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else None

    return jsonify({
        "found": True,
        "customer": {"id": customer.id, "name": customer.name, "phone": customer.phone,
                     "address": customer.address, "since": iso(customer.created_at)},
        "job_total": found["job_total"],
        "jobs": [{"id": j.id, "ref": j.ref, "type": str(labels.JOB_TYPE[j.type]),
                  "status": str(labels.STATUS[j.status]), "status_code": j.status,
                  "product_model": j.product_model, "problem": j.problem[:120],
                  "created": local(j.created_at), "scheduled": local(j.scheduled_start),
                  "technician": j.technician.display_name if j.technician else None,
                  "url": url_for("dispatch.job_page", job_id=j.id)} for j in found["jobs"]],
        "complaints": [{"id": c.id, "ref": c.ref, "severity": c.severity,
                        "status": str(COMPLAINT_STATUS_LABELS[c.status]),
                        "status_code": c.status, "content": c.content[:120],
                        "created": local(c.created_at),
                        "url": url_for("dispatch.complaint_page", complaint_id=c.id)}
                       for c in found["complaints"]],
    })

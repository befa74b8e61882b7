"""The board (one lane per technician plus the queues) and a job's page with its actions:
assign, reassign, reschedule, cancel, contact log, late evidence."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from fieldapp.accounts.models import User
from fieldapp.core import states
from fieldapp.core.errors import NotFound
from fieldapp.desk import pages
from fieldapp.desk import service as desk
from fieldapp.extensions import db
from fieldapp.jobs import service as job_service
from fieldapp.jobs.models import Job
from fieldapp.settings.service import desk_settings
from fieldapp.web import (
    clock,
    domain_ctx,
    flashed,
    form_refused,
    office_action,
    parse_day,
    same_site_path,
    web_actor,
)

from .blueprint import bp
from .forms import (
    CancelForm,
    ContactForm,
    ResendSurveyForm,
    ResolveConflictForm,
    ScheduleForm,
    opts,
)


def technicians() -> list[User]:
    return pages.active_technicians(db.session)


def technician_choices(empty_label: str) -> list[tuple]:
    return opts([("", empty_label)] + [(t.id, t.display_name) for t in technicians()])


def _stamp(day) -> str:
    return pages.board_stamp(db.session, day, clock().now())


def _board(day):
    ctx = domain_ctx()
    return desk.board(db.session, day, clock().now(), ctx.policy, desk_settings())


@bp.route("/")
def board():
    ctx = domain_ctx()
    today = desk.local_today(clock().now(), ctx.policy)
    day = parse_day(request.args.get("day"), today)
    data = _board(day)
    form = ScheduleForm(formdata=None, day=day)
    form.technician_id.choices = technician_choices(_("— Unassigned —"))
    return render_template("dispatch/board.html", b=data, tz=ctx.policy.tz, form=form,
                           cancel_form=CancelForm(formdata=None), stamp=_stamp(day),
                           under_way=states.UNDER_WAY,
                           overdue=desk.count_overdue(db.session, clock().now()),
                           next_url=url_for("dispatch.board", day=day.isoformat()))


@bp.route("/board.json")
def board_json():
    """The day's board as JSON (board.js reads `stamp` to know when to refresh)."""
    ctx = domain_ctx()
    day = parse_day(request.args.get("day"), desk.local_today(clock().now(), ctx.policy))
    if request.args.get("only") == "stamp":
        return jsonify({"day": day.isoformat(), "stamp": _stamp(day)})
    out = desk.board_dict(_board(day))
    out["stamp"] = _stamp(day)
    return jsonify(out)


# --- one job -------------------------------------------------------------------------------

def _job(job_id: str, for_update: bool = False) -> Job:
    try:
        return job_service.get_job(domain_ctx(), web_actor(), job_id, for_update=for_update)
    except NotFound:
        abort(404)


def render_job(job: Job, schedule_form=None, cancel_form=None, contact_form=None,
               status: int = 200):
    ctx = domain_ctx()
    now = clock().now()
    tz = ctx.policy.tz
    if schedule_form is None:
        local = job.scheduled_start.astimezone(tz) if job.scheduled_start else None
        schedule_form = ScheduleForm(
            formdata=None, technician_id=job.technician_id,
            day=local.date() if local else desk.local_today(now, ctx.policy),
            start=local.time() if local else None,
            end=job.scheduled_end.astimezone(tz).time() if job.scheduled_end else None)
    schedule_form.technician_id.choices = technician_choices(_("— Unassigned —"))
    return render_template(
        "dispatch/job.html", job=job, tz=tz,
        **pages.job_page(db.session, job, now, ctx.policy, desk_settings()),
        resend_form=ResendSurveyForm(formdata=None),
        schedule_form=schedule_form, cancel_form=cancel_form or CancelForm(formdata=None),
        contact_form=contact_form or ContactForm(formdata=None),
        resolve_form=ResolveConflictForm(formdata=None),
        next_url=url_for("dispatch.job_page", job_id=job.id)), status


@bp.route("/jobs/<job_id>")
def job_page(job_id):
    return render_job(_job(job_id))


@bp.route("/jobs/<job_id>/schedule", methods=["POST"])
def schedule(job_id):
    """Assign, reassign, unassign or reschedule. An overlap with the technician's other jobs
    is shown first and saved only when confirmed."""
    ctx = domain_ctx()
    job = _job(job_id, for_update=True)
    form = ScheduleForm()
    form.technician_id.choices = technician_choices(_("— Unassigned —"))
    back = same_site_path(form.next.data, url_for("dispatch.job_page", job_id=job.id),
                          inside=("/dispatch/",))
    if not form.validate():
        db.session.rollback()
        return render_job(job, schedule_form=form, status=400)
    start, end = form.window(ctx.policy.tz)
    tech_id = form.technician_id.data
    if tech_id is not None and start is not None and form.confirm_overlap.data != "1":
        clashes = desk.overlapping_jobs(db.session, tech_id, start, end, exclude_job_id=job.id)
        if clashes:
            db.session.rollback()
            return render_template("dispatch/confirm_overlap.html", job=job, form=form,
                                   clashes=clashes, tz=ctx.policy.tz,
                                   technician=db.session.get(User, tech_id), back=back)
    changes = {}
    if tech_id != job.technician_id:
        changes["technician_id"] = tech_id
    if start is not None and (start, end) != (job.scheduled_start, job.scheduled_end):
        changes["scheduled_start"], changes["scheduled_end"] = start, end
    if not changes:
        return flashed(_("Nothing changed."), back, "info")

    def done(job):
        who = job.technician.display_name if job.technician else _("the unassigned queue")
        return flashed(_("%(ref)s: %(who)s, %(when)s.", ref=job.ref, who=who, when=(
            job.scheduled_start.astimezone(ctx.policy.tz).strftime("%m-%d %H:%M")
            if job.scheduled_start else "—")), back)

    return office_action(lambda: job_service.update_job(ctx, web_actor(), job, changes), done,
                         back=back)


@bp.route("/jobs/<job_id>/cancel", methods=["POST"])
def cancel(job_id):
    ctx = domain_ctx()
    job = _job(job_id, for_update=True)
    form = CancelForm()
    back = same_site_path(form.next.data, url_for("dispatch.job_page", job_id=job.id),
                          inside=("/dispatch/",))
    if not form.validate():
        db.session.rollback()
        if form.next.data and back != url_for("dispatch.job_page", job_id=job.id):
            flash(_("Give the reason for cancelling."), "error")
            return redirect(back)
        return render_job(job, cancel_form=form, status=400)
    return office_action(
        lambda: job_service.update_job(ctx, web_actor(), job, {
            "status": states.CANCELLED, "reason": form.reason.data.strip(),
            "override": bool(form.override.data)}),
        lambda job: flashed(_("%(ref)s cancelled.", ref=job.ref), back), back=back)


@bp.route("/jobs/<job_id>/contact", methods=["POST"])
def contact(job_id):
    ctx = domain_ctx()
    job = _job(job_id, for_update=True)
    form = ContactForm()
    back = url_for("dispatch.job_page", job_id=job.id) + "#contacts"
    if refused := form_refused(form, lambda: render_job(job, contact_form=form, status=400)):
        return refused
    return office_action(
        lambda: job_service.record_contact(ctx, web_actor(), job, form.outcome.data,
                                           (form.note.data or "").strip() or None),
        lambda _none: flashed(_("Call recorded."), back), back=back)


@bp.route("/jobs/<job_id>/conflicts/<int:conflict_id>/resolve", methods=["POST"])
def resolve_conflict(job_id, conflict_id):
    ctx = domain_ctx()
    job = _job(job_id, for_update=True)
    form = ResolveConflictForm()
    back = url_for("dispatch.job_page", job_id=job.id) + "#evidence"
    if not form.validate():
        db.session.rollback()
        return flashed(_("Write down the decision."), back, "error")
    return office_action(
        lambda: desk.resolve_conflict(ctx, web_actor(), job, conflict_id, form.resolution.data),
        lambda _none: flashed(_("Decision recorded."), back), back=back)

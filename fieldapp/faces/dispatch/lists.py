"""Searching and listing jobs (paged by keyset), the CSV export of what is listed, and the
breaches page."""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from fieldapp import labels
from fieldapp.core import states
from fieldapp.core.errors import DomainError
from fieldapp.csvfile import csv_response
from fieldapp.desk import pages
from fieldapp.desk import service as desk
from fieldapp.extensions import db
from fieldapp.jobs.views import clocks_for
from fieldapp.settings.service import desk_settings
from fieldapp.web import clock, domain_ctx, error_text

from .blueprint import bp
from .board import technicians
from .forms import CHANNEL_LABELS, PRIORITY_LABELS, JobSearchForm, opts


def job_filter(form: JobSearchForm) -> desk.JobFilter:
    status = form.status.data if form.status.data in states.STATUSES else ""
    technician = form.technician.data or ""
    if technician not in ("", "none") and not technician.isdigit():
        technician = ""
    return desk.JobFilter(q=(form.q.data or "").strip(), status=status, technician=technician,
                          date_field="scheduled" if form.date_field.data == "scheduled"
                          else "created",
                          date_from=form.date_from.data, date_to=form.date_to.data,
                          needs_review=bool(form.needs_review.data))


def search_form() -> JobSearchForm:
    form = JobSearchForm(request.args)
    form.status.choices = opts([("", _("Any status"))] + [(s, labels.STATUS[s])
                                                          for s in states.STATUSES])
    form.technician.choices = opts([("", _("Anyone")), ("none", _("Unassigned"))] +
                                   [(str(t.id), t.display_name) for t in technicians()])
    form.validate()  # dates that do not parse are dropped (shown with their message)
    return form


def query_args(exclude=("cursor",)) -> dict:
    """The list's filters, to carry into its page and CSV links. Never names starting with
    `_`: url_for reads `_external`, `_scheme`, `_anchor` as orders (`?_scheme=javascript`)."""
    return {k: v for k, v in request.args.items()
            if k not in exclude and v and not k.startswith("_")}


@bp.route("/jobs")
def jobs():
    ctx = domain_ctx()
    form = search_form()
    f = job_filter(form)
    cursor = request.args.get("cursor", "")
    error = None
    try:
        page = desk.search_jobs(db.session, f, ctx.policy, cursor)
    except DomainError as refused:
        error = error_text(refused)
        page = desk.search_jobs(db.session, f, ctx.policy, "")
        cursor = ""
    rows = pages.job_rows(db.session, page.rows, clock().now(), ctx.policy, desk_settings())
    args = query_args()
    return render_template(
        "dispatch/jobs.html", form=form, rows=rows, page=page, tz=ctx.policy.tz,
        error=error, first_page=bool(cursor),
        first_url=url_for("dispatch.jobs", **args),
        next_url=url_for("dispatch.jobs", cursor=page.next_cursor, **args)
        if page.next_cursor else None,
        csv_url=url_for("dispatch.jobs_csv", **args))


def csv_headers() -> list[str]:
    return [_("Reference"), _("Intake time"), _("Job type"), _("Status"), _("Priority"),
            _("Channel"), _("Customer name"), _("Contact phone"), _("Address"),
            _("Product model"), _("Problem"), _("Technician"), _("Visit from"), _("Visit to"),
            _("First contact"), _("Response"), _("Resolution"), _("Late evidence")]


@bp.route("/jobs.csv")
def jobs_csv():
    """Every job the list shows for these filters (all pages), as CSV with a BOM and the
    column names in the reader's language."""
    ctx = domain_ctx()
    f = job_filter(search_form())
    now = clock().now()
    tz = ctx.policy.tz
    settings = desk_settings()
    yes = _("yes")

    def local(value):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    def batches():
        for batch in desk.iter_jobs(db.session, f, ctx.policy):
            clocks = clocks_for(db.session, [j.id for j in batch])
            rows = []
            for j in batch:
                views = {v.name: v for v in desk.clock_views(
                    clocks[j.id], now, ctx.policy, settings, stopped=desk.job_is_stopped(j))}
                rows.append([
                    j.ref, local(j.created_at), str(labels.JOB_TYPE[j.type]),
                    str(labels.STATUS[j.status]), str(PRIORITY_LABELS.get(j.priority, "")),
                    str(CHANNEL_LABELS.get(j.channel, "")), j.contact_name, j.contact_phone,
                    j.address, j.product_model, j.problem,
                    j.technician.display_name if j.technician else "",
                    local(j.scheduled_start), local(j.scheduled_end),
                    *[str(labels.SLA[views[n].state]) if n in views else ""
                      for n in ("first_contact", "response", "resolution")],
                    yes if j.needs_review else ""])
            yield rows

    stamp = now.astimezone(tz).strftime("%Y%m%d-%H%M")
    return csv_response(csv_headers(), batches(), f"jobs-{stamp}.csv",
                        language="zh-CN" if str(get_locale()).startswith("zh") else "en")


@bp.route("/breaches")
def breaches():
    ctx = domain_ctx()
    data = desk.breaches(db.session, clock().now(), ctx.policy, desk_settings())
    return render_template("dispatch/breaches.html", data=data, tz=ctx.policy.tz)

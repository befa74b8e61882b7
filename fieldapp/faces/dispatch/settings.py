"""/dispatch/settings: the SLA limits, the working calendar and how the desk shows clocks and
phones. Admins only; every save is audited (SettingChange)."""
from __future__ import annotations

from datetime import date, timedelta

from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _

from fieldapp.core.roles import ADMIN
from fieldapp.desk import pages
from fieldapp.extensions import db
from fieldapp.settings import service as settings_service
from fieldapp.settings.service import desk_settings
from fieldapp.web import domain_ctx, error_text, flashed, office_action, role_required, web_actor

from .blueprint import bp
from .forms import LIMIT_NAMES, SettingsForm

MAX_HOLIDAYS = 2000


def parse_holidays(text: str) -> list[date]:
    """One date a line (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD); # starts a comment."""
    days: set[date] = set()
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            if ".." in line:
                first, last = (date.fromisoformat(p.strip()) for p in line.split("..", 1))
                if last < first or (last - first).days > 366:
                    raise ValueError
                days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
            else:
                days.add(date.fromisoformat(line))
        except ValueError:
            raise ValueError(number) from None
    if len(days) > MAX_HOLIDAYS:
        raise ValueError(0)
    return sorted(days)


def format_holidays(days) -> str:
    """Consecutive days as ranges, so the golden week is one line."""
    lines, run = [], []
    for day in sorted(days):
        if run and day == run[-1] + timedelta(days=1):
            run.append(day)
            continue
        if run:
            lines.append(_range(run))
        run = [day]
    if run:
        lines.append(_range(run))
    return "\n".join(lines)


def _range(run) -> str:
    return run[0].isoformat() if len(run) == 1 else f"{run[0].isoformat()}..{run[-1].isoformat()}"


def _fill(form: SettingsForm, policy, desk) -> None:
    data = settings_service.policy_to_dict(policy)
    form.working_weekdays.data = data["working_weekdays"]
    form.day_start.data = policy.day_start
    form.day_end.data = policy.day_end
    form.holidays.data = format_holidays(policy.holidays)
    form.warn_percent.data = desk.warn_percent
    form.offline_after_minutes.data = desk.offline_after_minutes
    form.return_visit_days.data = desk.return_visit_days
    for key, _label in LIMIT_NAMES:
        if key.startswith("resolution."):
            limit = data["resolution"][key.split(".", 1)[1]]
        else:
            limit = data[key]
        name = key.replace(".", "__")
        getattr(form, f"{name}__amount").data = limit["amount"]
        getattr(form, f"{name}__unit").data = limit["unit"]


def _policy_data(form: SettingsForm) -> dict:
    data = {"working_weekdays": sorted(form.working_weekdays.data),
            "day_start": form.day_start.data.strftime("%H:%M"),
            "day_end": form.day_end.data.strftime("%H:%M"),
            "holidays": [d.isoformat() for d in parse_holidays(form.holidays.data)],
            "resolution": {}}
    for key, _label in LIMIT_NAMES:
        name = key.replace(".", "__")
        limit = {"amount": getattr(form, f"{name}__amount").data,
                 "unit": getattr(form, f"{name}__unit").data}
        if key.startswith("resolution."):
            data["resolution"][key.split(".", 1)[1]] = limit
        else:
            data[key] = limit
    return data


@bp.route("/settings", methods=["GET", "POST"])
@role_required({ADMIN})
def settings():
    ctx = domain_ctx()
    form = SettingsForm()
    if request.method == "GET":
        _fill(form, ctx.policy, desk_settings())
    elif form.validate():
        try:
            policy_data = _policy_data(form)
        except ValueError as bad:
            form.holidays.errors = list(form.holidays.errors) + [
                _("Line %(n)s is not a date or a range of dates.", n=bad.args[0])
                if bad.args[0] else _("Too many holidays.")]
        else:
            if form.day_end.data <= form.day_start.data:
                form.day_end.errors = list(form.day_end.errors) + [
                    _("The end must be after the start.")]
            else:
                return office_action(
                    lambda: settings_service.save(ctx, web_actor(), policy_data, {
                        "warn_percent": form.warn_percent.data,
                        "offline_after_minutes": form.offline_after_minutes.data,
                        "return_visit_days": form.return_visit_days.data
                        if form.return_visit_days.data is not None
                        else desk_settings().return_visit_days}),
                    saved, render=lambda: render_settings(form, ctx, 400),
                    message=lambda error: f"{error_text(error)} "
                                          f"({error.details.get('field', '')})")
    return render_settings(form, ctx, 400 if request.method == "POST" else 200)


def saved(result):
    policy, desk = result
    settings_service.install(current_app._get_current_object(), policy, desk)
    return flashed(_("Settings saved. They apply to clocks started from now on."),
                   url_for("dispatch.settings"))


def render_settings(form: SettingsForm, ctx, status: int):
    return render_template("dispatch/settings.html", form=form, limits=LIMIT_NAMES,
                           **pages.settings_page(db.session),
                           tz=ctx.policy.tz, timezone=ctx.policy.timezone), status

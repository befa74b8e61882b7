"""Admin-editable settings kept in the database (`Setting`: key → JSON), with an audit row
(`SettingChange`) for every save.

- `sla_policy`: the SLA limits and the working calendar (weekdays, hours, holidays) that
  `fieldapp.core.sla.SlaPolicy` holds. The timezone stays the deployment's
  (`FIELDAPP_TIMEZONE`). `app.extensions["fieldapp.policy"]` is the SlaPolicy in force: the
  defaults of SlaPolicy until an admin saves, then the stored one. Each process re-reads the
  row at most every `SETTINGS_TTL` seconds (5 by default), so every worker follows a change.
- `desk`: how the dispatcher's desk shows clocks and devices, and after how many days the
  return visit falls due (`DeskSettings`).

A saved limit applies to clocks started afterwards; a running clock keeps the due time it was
given at its start (a promise made to the customer does not move).
"""
from __future__ import annotations

import time as _monotonic_time
from dataclasses import asdict, dataclass, replace
from datetime import date, time

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from fieldapp.accounts.context import Actor, Ctx
from fieldapp.core import sla as sla_rules
from fieldapp.core.errors import DomainError
from fieldapp.core.job_types import JOB_TYPES
from fieldapp.core.roles import ADMIN
from fieldapp.jobs.service import require_role
from fieldapp.settings.models import Setting, SettingChange

POLICY_KEY = "sla_policy"
DESK_KEY = "desk"
LIMIT_FIELDS = ("first_contact", "response", "complaint_escalation", "complaint_coordination")


@dataclass(frozen=True)
class DeskSettings:
    # A running clock turns amber when less than this share of its limit is left.
    warn_percent: int = 25
    # A technician's phone counts as offline for long after this long without a sync,
    # during working hours.
    offline_after_minutes: int = 120
    # The return visit (回访) falls due this many days after a job's approval
    # (fieldapp/visits/service.py).
    return_visit_days: int = 3

    @property
    def warn_fraction(self) -> float:
        return self.warn_percent / 100


# --- to and from JSON ----------------------------------------------------------------------

def policy_to_dict(policy: sla_rules.SlaPolicy) -> dict:
    return {
        "working_weekdays": sorted(policy.working_weekdays),
        "day_start": policy.day_start.strftime("%H:%M"),
        "day_end": policy.day_end.strftime("%H:%M"),
        "holidays": sorted(d.isoformat() for d in policy.holidays),
        **{name: getattr(policy, name).as_dict() for name in LIMIT_FIELDS},
        "resolution": {job_type: limit.as_dict()
                       for job_type, limit in sorted(policy.resolution.items())},
    }


def _bad(field: str, problem: str, **details) -> DomainError:
    return DomainError("bad_setting", {"field": field, "problem": problem, **details})


def _parse_time(value, field: str) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        raise _bad(field, "not_a_time", value=value) from None


def _limit(value, field: str) -> sla_rules.Limit:
    try:
        return sla_rules.limit_from_dict(value if isinstance(value, dict) else {})
    except ValueError:
        raise _bad(field, "bad_limit", value=value) from None


def policy_from_dict(data: dict, timezone: str) -> sla_rules.SlaPolicy:
    """A validated SlaPolicy from stored or submitted JSON (DomainError `bad_setting`)."""
    defaults = sla_rules.SlaPolicy(timezone=timezone)
    weekdays = data.get("working_weekdays", list(defaults.working_weekdays))
    if not isinstance(weekdays, list) or not weekdays or \
            any(not isinstance(d, int) or not 0 <= d <= 6 for d in weekdays):
        raise _bad("working_weekdays", "need_a_working_day")
    start = _parse_time(data.get("day_start", "09:00"), "day_start")
    end = _parse_time(data.get("day_end", "18:00"), "day_end")
    if end <= start:
        raise _bad("day_end", "end_before_start")
    holidays = []
    for value in data.get("holidays", []):
        try:
            holidays.append(date.fromisoformat(str(value)))
        except ValueError:
            raise _bad("holidays", "not_a_date", value=value) from None
    resolution = dict(defaults.resolution)
    for job_type, value in (data.get("resolution") or {}).items():
        if job_type not in JOB_TYPES:
            raise _bad("resolution", "unknown_job_type", value=job_type)
        resolution[job_type] = _limit(value, f"resolution.{job_type}")
    limits = {name: _limit(data[name], name) if name in data else getattr(defaults, name)
              for name in LIMIT_FIELDS}
    return replace(defaults, working_weekdays=tuple(sorted(set(weekdays))), day_start=start,
                   day_end=end, holidays=tuple(sorted(set(holidays))), resolution=resolution,
                   **limits)


def desk_from_dict(data: dict) -> DeskSettings:
    defaults = DeskSettings()
    warn = data.get("warn_percent", defaults.warn_percent)
    offline = data.get("offline_after_minutes", defaults.offline_after_minutes)
    if not isinstance(warn, int) or isinstance(warn, bool) or not 1 <= warn <= 99:
        raise _bad("warn_percent", "out_of_range", min=1, max=99)
    if not isinstance(offline, int) or isinstance(offline, bool) or not 5 <= offline <= 1440:
        raise _bad("offline_after_minutes", "out_of_range", min=5, max=1440)
    days = data.get("return_visit_days", defaults.return_visit_days)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 60:
        raise _bad("return_visit_days", "out_of_range", min=1, max=60)
    return DeskSettings(warn_percent=warn, offline_after_minutes=offline,
                        return_visit_days=days)


# --- reading and saving --------------------------------------------------------------------

def load(session, timezone: str) -> tuple[sla_rules.SlaPolicy, DeskSettings]:
    stored = dict(session.execute(select(Setting.key, Setting.value)
                                  .where(Setting.key.in_((POLICY_KEY, DESK_KEY)))).all())
    return _parse(stored, timezone)


def _parse(stored: dict, timezone: str) -> tuple[sla_rules.SlaPolicy, DeskSettings]:
    try:
        policy = policy_from_dict(stored.get(POLICY_KEY) or {}, timezone)
    except DomainError:  # a row nobody could have saved through save(): keep running
        policy = sla_rules.SlaPolicy(timezone=timezone)
    try:
        desk = desk_from_dict(stored.get(DESK_KEY) or {})
    except DomainError:
        desk = DeskSettings()
    return policy, desk


def save(ctx: Ctx, actor: Actor, policy_data: dict, desk_data: dict
         ) -> tuple[sla_rules.SlaPolicy, DeskSettings]:
    """Validate and store both settings (admins only); each change is audited."""
    require_role(actor, {ADMIN})
    policy = policy_from_dict(policy_data, ctx.policy.timezone)
    desk = desk_from_dict(desk_data)
    for key, value in ((POLICY_KEY, policy_to_dict(policy)), (DESK_KEY, asdict(desk))):
        row = ctx.session.get(Setting, key)
        old = row.value if row is not None else None
        if old == value:
            continue
        if row is None:
            ctx.session.add(Setting(key=key, value=value))
        else:
            row.value = value
        ctx.session.add(SettingChange(key=key, old=old, new=value, by_id=actor.id,
                                      at=ctx.now()))
    return policy, desk


def history(session, limit: int = 20) -> list[SettingChange]:
    return session.execute(select(SettingChange).order_by(SettingChange.id.desc())
                           .limit(limit)).scalars().all()


# --- the app's copy ------------------------------------------------------------------------

def install(app, policy: sla_rules.SlaPolicy, desk: DeskSettings) -> None:
    """Make these the settings in force in this process (after a save, at once)."""
    app.extensions["fieldapp.policy"] = policy
    app.extensions["fieldapp.desk"] = desk
    app.extensions["fieldapp.settings_loaded_at"] = _monotonic_time.monotonic()


def refresh(app, force: bool = False) -> None:
    """Re-read the stored settings if the process's copy is older than SETTINGS_TTL."""
    loaded = app.extensions.get("fieldapp.settings_loaded_at")
    ttl = app.config.get("SETTINGS_TTL", 5)
    if not force and loaded is not None and _monotonic_time.monotonic() - loaded < ttl:
        return
    from fieldapp.extensions import db  # why: no Flask on import

    try:
        # Its own connection: never part of (or spoiling) the request's transaction.
        with app.app_context(), db.engine.connect() as conn:
            stored = dict(conn.execute(select(Setting.key, Setting.value)
                                       .where(Setting.key.in_((POLICY_KEY, DESK_KEY)))).all())
    except SQLAlchemyError:  # not migrated yet: the defaults stand
        return
    policy, desk = _parse(stored, app.config["FIELDAPP_TIMEZONE"])
    install(app, policy, desk)


def desk_settings() -> DeskSettings:
    from flask import current_app  # why: no Flask on import

    return current_app.extensions.get("fieldapp.desk") or DeskSettings()


def init_app(app) -> None:
    app.extensions.setdefault("fieldapp.desk", DeskSettings())

    @app.before_request
    def _settings_in_force():
        from flask import request  # why: no Flask on import

        if request.endpoint != "static":
            refresh(app)

"""The desk's blueprint (`bp`), its guard and what its pages share (phrases, filters). Its
own module, so the route modules import `bp` from here and the package imports them: no
import cycle."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, current_app, g, url_for
from flask_babel import gettext as _

from fieldapp import labels
from fieldapp.core.clock import ensure_aware
from fieldapp.core.roles import DISPATCH_ROLES
from fieldapp.web import role_required

from .forms import CLOCK_LABELS, DeskLabels

bp = Blueprint("dispatch", __name__, template_folder="templates", url_prefix="/dispatch")


# Every route here is for dispatchers and admins only.
role_required(DISPATCH_ROLES)(bp)


def N_(text: str) -> str:
    """Marks a msgid for extraction (pybabel's default keyword); translated where used."""
    return text


DURATION_PATTERNS = (
    N_("under a minute"), N_("%(n)d min"), N_("%(h)d h %(m)d min"), N_("%(h)d h"),
    N_("%(d)d d %(h)d h"), N_("%(d)d d"), N_("met"), N_("stopped"), N_("met late by %(t)s"),
    N_("%(t)s overdue"), N_("%(t)s left"), N_("missed by %(t)s"))


class Phrases:
    """The desk's recurring words, translated once per request: a busy board has hundreds of
    cards, and asking Babel for every word of every card was most of its cost."""

    def __init__(self):

        self.TYPE = {k: str(v) for k, v in labels.JOB_TYPE.items()}
        self.STATUS = {k: str(v) for k, v in labels.STATUS.items()}
        self.CLOCK = {k: str(v) for k, v in CLOCK_LABELS.items()}
        # Patterns without their values: _() answers the pattern when given no variables.
        self.p = {key: _(key) for key in DURATION_PATTERNS}

    def duration(self, seconds: float) -> str:
        """A short human length of time: 45 min, 3 h 5 min, 2 d 4 h."""
        p = self.p
        minutes = abs(int(seconds)) // 60
        if minutes < 1:
            return p["under a minute"]
        if minutes < 60:
            return p["%(n)d min"] % {"n": minutes}
        hours, minutes = divmod(minutes, 60)
        if hours < 24:
            return p["%(h)d h %(m)d min"] % {"h": hours, "m": minutes} if minutes else \
                p["%(h)d h"] % {"h": hours}
        days, hours = divmod(hours, 24)
        return p["%(d)d d %(h)d h"] % {"d": days, "h": hours} if hours else \
            p["%(d)d d"] % {"d": days}

    def clock(self, v) -> str:
        """A clock's state as the desk says it: met, stopped, 3 min left, 2 h overdue."""
        p = self.p
        if v.level == "met":
            return p["met"]
        if v.level == "stopped":
            return p["stopped"]
        if v.level == "missed":  # history: it stopped this late, nobody can act on it now
            return p["missed by %(t)s"] % {"t": self.duration(v.seconds_left)}
        if v.state == "breached" and v.met_at is not None:
            return p["met late by %(t)s"] % {"t": self.duration(-v.seconds_left)}
        if v.state == "breached":
            return p["%(t)s overdue"] % {"t": self.duration(v.seconds_left)}
        return p["%(t)s left"] % {"t": self.duration(v.seconds_left)}


def phrases() -> Phrases:
    if "desk_phrases" not in g:
        g.desk_phrases = Phrases()
    return g.desk_phrases


@bp.app_template_filter("duration")
def duration(seconds: float) -> str:
    return phrases().duration(seconds)


@bp.app_template_filter("ago")
def ago(value: datetime | None) -> str:
    if value is None:
        return _("never")
    now = current_app.extensions["fieldapp.clock"].now()
    seconds = (now - ensure_aware(value)).total_seconds()
    if seconds < 60:
        return _("just now")
    return _("%(t)s ago", t=duration(seconds))


@bp.app_template_global("day_link")
def day_link(day: date, delta: int = 0) -> str:
    return url_for("dispatch.board", day=(day + timedelta(days=delta)).isoformat())


@bp.context_processor
def desk_labels():
    return {"dl": DeskLabels, "ph": phrases()}


@bp.app_template_filter("isotime")
def isotime(value: str | None) -> str:
    """An ISO time from an audit record, in the business's local time."""
    return labels.iso_local(value, current_app.extensions["fieldapp.policy"].tz,
                            unreadable=None)

"""What every face shares: the request's domain context, the one way an office page changes
something (office_action) and guards its routes (role_required), security headers, error
pages, the language switch."""
from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from fieldapp import labels
from fieldapp.accounts.context import Actor, Ctx
from fieldapp.accounts.models import User
from fieldapp.core.clock import Clock
from fieldapp.core.errors import DomainError
from fieldapp.extensions import db
from fieldapp.messages import MESSAGES, http_error_response
from sync import registry

bp = Blueprint("web", __name__)
T = TypeVar("T")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


class DatabaseInt(IntegerConverter):
    """`<int:...>` in a URL, bounded to what an INTEGER column holds: a larger number is no
    such page (404), never a database error."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=2**31 - 1 if max is None else max, signed=signed)


# The days a user may name, in the API and on every page: anything outside is a typo or an
# attack, and year 1 or 9999 overflows as soon as it meets a time zone (a 500 in the
# database driver).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


# Every job event's label: the office's own (fieldapp/labels.py) and those of the mutation
# types, declared with each type (sync/registry.py).
EVENT_LABELS = {**labels.EVENT, **registry.EVENT_LABELS}


# Each mutation type's name as the office reads it (a late change from a phone names its type).
MUTATION_LABELS = {name: kind.label for name, kind in registry.TYPES.items()}


def event_sentence(event, job=None, users=None, tz=None) -> str:
    """A job event (a JobEvent or its JSON dict) as one sentence in the reader's language
    (fieldapp/labels.py event_sentence): the timelines of the desk and the review."""
    type_ = event["type"] if isinstance(event, dict) else event.type
    data = (event["data"] if isinstance(event, dict) else event.data) or {}
    if users is None:  # the review's timeline: only the technicians an assignment names
        users = {uid: db.session.get(User, uid)
                 for uid in (data.get("from_technician_id"), data.get("to_technician_id"))
                 if isinstance(uid, int)}
    items = job.template.items if job is not None and job.template is not None else None
    return labels.event_sentence(type_, data, items=items, users=users, tz=tz,
                                 event_labels=EVENT_LABELS, mutation_labels=MUTATION_LABELS,
                                 reasons={**MESSAGES, **labels.CONFLICT_REASON})


def mutation_sentence(type_: str, args: dict | None, job=None, users=None, tz=None) -> str:
    """A change a phone sent that was kept, not applied (a conflict), worded as the event it
    would have written: "确认「穿鞋套」：是"."""
    kind = registry.TYPES.get(type_)
    if kind is None:
        return str(MUTATION_LABELS.get(type_) or labels.event_sentence("", {}))
    data = dict(args or {})
    if kind.event == "status":  # the phone names only where it wanted to go
        data = {"to": data.get("status"), "reason": data.get("reason")}
    return event_sentence({"type": kind.event, "data": data}, job, users, tz)


def reason_text(code: str | None) -> str:
    """Why a change was refused or kept aside, in words (a MESSAGES code)."""
    text = labels.CONFLICT_REASON.get(code or "") or MESSAGES.get(code or "")
    return str(text) if text is not None else "—"


class DeskLabels:
    """Display names the desk's and the review's templates use (as `dl`)."""

    CHANNEL = labels.CHANNEL_LABELS
    PRIORITY = labels.PRIORITY_LABELS
    OUTCOME = labels.OUTCOME_LABELS
    ABOUT = labels.ABOUT_LABELS
    SEVERITY = labels.SEVERITY_LABELS
    COMPLAINT_STATUS = labels.COMPLAINT_STATUS_LABELS
    CLOCK = labels.CLOCK_LABELS
    EVENT = EVENT_LABELS
    UNIT = labels.UNIT_LABELS


def role_required(roles):
    """The one guard of the office's pages: signed-in users of `roles` only; others are sent
    to sign in, or refused (403). On a view, `@role_required(...)`; on a Blueprint,
    `role_required(...)(bp)` guards every route of it (checked before the view runs)."""

    def refusal():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.path))
        if current_user.role not in roles:
            abort(403)
        return None

    def decorator(view):
        if isinstance(view, Blueprint):
            view.before_request(refusal)
            return view

        @wraps(view)
        def wrapper(*args, **kwargs):
            return refusal() or view(*args, **kwargs)

        return wrapper

    return decorator


def error_text(error: DomainError) -> str:
    """A refused change in the reader's language (fieldapp/messages.py); its code if unnamed."""
    text = MESSAGES.get(error.code)
    return str(text) if text is not None else error.code


class FieldError(Exception):
    """A value refused where it was typed, found outside the services (an upload that is no
    image): office_action shows `message` next to the form's `field`."""

    def __init__(self, field: str, message: str):
        super().__init__(field)
        self.field, self.message = field, message


def flashed(message, to: str, category: str = "ok"):
    """Flash `message` and go to `to`: what an office action answers when it is done."""
    flash(message, category)
    return redirect(to)


def add_field_error(form, name: str, message: str) -> bool:
    """Show `message` under the form's field `name`; False when the form has no such field."""
    field = getattr(form, name, None) if form is not None and name else None
    if field is None:
        return False
    field.errors = list(field.errors) + [message]
    return True


def form_refused(form, render: Callable[[], object]):
    """None when the posted `form` is valid; else nothing is stored (rollback) and the page
    `render()` shows the form again with its errors."""
    if form.validate():
        return None
    db.session.rollback()
    return render()


def office_action(change: Callable[[], T], done: Callable[[T], object], *,
                  back: str | None = None, render: Callable[[], object] | None = None,
                  form=None, fields: dict[str, str] | None = None,
                  refused: Callable[[DomainError], object] | None = None,
                  message: Callable[[DomainError], str] = error_text):
    """The one way an office page changes something. `change()` calls the services; one
    commit. On success `done(result)` answers (usually `flashed(text, url)`). A DomainError
    (or a FieldError) rolls everything back, so nothing is stored half-way, and is shown in
    the reader's language: `refused(error)` answers first if it returns something (an abort,
    another page); with `render` the form is shown again (the message next to the field
    `fields` names for its code, else flashed); else the message is flashed and the user
    goes `back`."""
    try:
        result = change()
        db.session.commit()
    except FieldError as error:
        db.session.rollback()
        add_field_error(form, error.field, error.message)
        return render()
    except DomainError as error:
        db.session.rollback()
        answer = refused(error) if refused is not None else None
        if answer is not None:
            return answer
        text = message(error)
        if render is not None:
            if not add_field_error(form, (fields or {}).get(error.code, ""), text):
                flash(text, "error")
            return render()
        flash(text, "error")
        return redirect(back)
    return done(result)


def day_in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def parse_day(value: str | None, default: date) -> date:
    """A `?day=` / `?from=` query value: the default when missing, unreadable or out of
    range (as a page's filters always did for a date that does not parse)."""
    try:
        day = date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return day if day_in_range(day) else default


def clock() -> Clock:
    return current_app.extensions["fieldapp.clock"]


def domain_ctx() -> Ctx:
    return Ctx(session=db.session, clock=clock(), policy=current_app.extensions["fieldapp.policy"])


def web_actor() -> Actor:
    return Actor(user=current_user._get_current_object())


# Unicode categories never part of a path we send anyone to: controls, format characters
# (zero-width, bidi), surrogates, private use, unassigned, line and paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def same_site_path(target: str | None, default: str, inside: tuple[str, ...] = ("/",)) -> str:
    """`target` when it is a path on this site starting with one of `inside`, else `default`.
    Every `next` or "back" a request names goes through here before it becomes a redirect.

    Browsers drop tab, CR and LF anywhere in a URL and read a backslash as a slash, so
    "/<tab>/evil.example" or "/<backslash>evil.example" would leave the site as
    "//evil.example": any such character, a doubled slash or a dot segment, as sent or
    percent-encoded (at any depth), refuses the target rather than being repaired."""
    if not isinstance(target, str) or not target or len(target) > 2048:
        return default
    decoded = target
    for _ in range(4):  # %252F... decodes one level per round
        decoded, previous = unquote(decoded), decoded
        if decoded == previous:
            break
    for text in (target, decoded):
        if not text.startswith("/") or "\\" in text:
            return default
        if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in text):
            return default
        path = text.split("?", 1)[0].split("#", 1)[0]
        if "//" in path or any(segment in (".", "..") for segment in path.split("/")):
            return default
    if " " in target:  # a raw space is no URL; an encoded one (%20) is fine
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(inside):
        return default
    return target


def document_language() -> str:
    """The language a PDF (report, receipt, repair slip) is asked for: `?lang=`, else the
    caller's, else Chinese."""
    return request.args.get("lang") or str(get_locale() or "zh")


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(same_site_path(request.args.get("next"), "/"))


# Browsers that once reached the site over TLS keep to https for a year.
HSTS = "max-age=31536000"


def init_app(app) -> None:
    app.register_blueprint(bp)
    # Only when the public address is https (behind a TLS proxy): on plain http the header
    # would be ignored at best, and would lock out a site that later loses its certificate.
    behind_tls = str(app.config.get("PUBLIC_BASE_URL", "")).lower().startswith("https://")

    @app.after_request
    def security_headers(response):
        if behind_tls:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.context_processor
    def template_globals():
        locale = str(get_locale() or "zh_CN")
        return {"locale": locale, "html_lang": "zh-CN" if locale.startswith("zh") else "en",
                "labels": labels, "event_sentence": event_sentence,
                "mutation_sentence": mutation_sentence, "reason_text": reason_text}

    @app.template_filter("local")
    def local_time(value, tz, fmt="%Y-%m-%d %H:%M"):
        return value.astimezone(tz).strftime(fmt) if value else "—"

    @app.template_filter("paren")
    def paren(value):
        """An aside in brackets as the page's language writes it: "（2/5）" in Chinese, with
        no space before it; " (2/5)" in English (issue 17: no ASCII brackets in Chinese)."""
        zh = str(get_locale() or "zh_CN").startswith("zh")
        text = escape(value)
        return Markup(f"（{text}）" if zh else f" ({text})")

    @app.template_filter("label")
    def label(value: dict):
        """A {"zh-CN", "en"} label in the page's language."""
        locale = str(get_locale() or "zh_CN")
        return value.get("zh-CN" if locale.startswith("zh") else "en") or value.get("en")

    @app.errorhandler(HTTPException)
    def html_error(error: HTTPException):
        if error.response is not None:  # an answer made for this error (the limiter's 429)
            return error.response
        if request.path.startswith("/api/"):
            return http_error_response(error)
        # The error's own headers go with the page too (a 405's Allow, RFC 9110).
        headers = [(key, value) for key, value in error.get_headers()
                   if key.lower() != "content-type"]
        return render_template("error.html", error=error), error.code, headers

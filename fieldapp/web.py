"""What every face shares: the request's domain context, security headers, error pages,
the language switch."""
from __future__ import annotations

from datetime import date

from flask import (Blueprint, current_app, redirect, render_template, request, session)
from flask_babel import get_locale
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from fieldapp.core.clock import Clock
from fieldapp.extensions import db
from fieldapp.services.context import Actor, Ctx

bp = Blueprint("web", __name__)

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


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    target = request.args.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.context_processor
    def template_globals():
        from fieldapp import labels

        locale = str(get_locale() or "zh_CN")
        return {"locale": locale, "html_lang": "zh-CN" if locale.startswith("zh") else "en",
                "labels": labels}

    @app.template_filter("local")
    def local_time(value, tz, fmt="%Y-%m-%d %H:%M"):
        return value.astimezone(tz).strftime(fmt) if value else "—"

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
            from fieldapp.api.errors import http_error_response

            return http_error_response(error)
        # The error's own headers go with the page too (a 405's Allow, RFC 9110).
        headers = [(key, value) for key, value in error.get_headers()
                   if key.lower() != "content-type"]
        return render_template("error.html", error=error), error.code, headers

"""Web sign-in (Flask-Login, CSRF, rate-limited) that sends each role to its own face."""
from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from fieldapp.accounts import service as accounts
from fieldapp.accounts.models import LoginFailure
from fieldapp.core.roles import HOME_PATH
from fieldapp.extensions import db, sign_in_limits
from fieldapp.web import clock, same_site_path

bp = Blueprint("auth", __name__, template_folder="templates")


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me signed in on this device"))


def _safe_next(target: str | None, role: str) -> str:
    # Only inside the face this role may use: no bouncing a technician to /dispatch/.
    allowed = {"technician": ("/app/",), "dispatcher": ("/dispatch/",),
               "supervisor": ("/review/",), "admin": ("/dispatch/", "/review/")}[role]
    return same_site_path(target, HOME_PATH[role], inside=allowed)


def _too_many(limit):
    # Flask-Limiter uses on_breach's answer only when it is a Response (not a tuple).
    form = LoginForm()
    return make_response(render_template("auth/login.html", form=form, locked=True), 429)


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limits(on_breach=_too_many)
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(HOME_PATH[current_user.role])
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.username.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next"), user.role))
        db.session.add(LoginFailure(username=form.username.data[:64],
                                    remote_addr=request.remote_addr, at=clock().now()))
        db.session.commit()
        failed = True
    status = 401 if failed else (400 if request.method == "POST" else 200)
    return render_template("auth/login.html", form=form, failed=failed), status


@bp.route("/logout", methods=["POST"])
def logout():
    LogoutForm().validate_on_submit() or abort(400)
    if current_user.is_authenticated:
        # Ends the session on the server too: a copy of this cookie or the remember-me
        # cookie opens nothing any more.
        accounts.end_web_sessions(current_user._get_current_object())
        db.session.commit()
    logout_user()
    return redirect(url_for("auth.login"))


class LogoutForm(FlaskForm):
    pass


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(HOME_PATH[current_user.role])
    return redirect(url_for("auth.login"))


@bp.app_context_processor
def logout_form():
    return {"logout_form": LogoutForm()}

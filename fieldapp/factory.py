"""The application factory: configuration, extensions, one blueprint per face."""
from __future__ import annotations

import glob
import os

from flask import Flask, g, request, session
from flask_login import current_user
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from fieldapp import blobstore, cli, strict_json, web
from fieldapp.accounts import service as accounts
from fieldapp.accounts.service import user_for_session
from fieldapp.config import check_secret_key, from_environment
from fieldapp.core.clock import Clock
from fieldapp.core.sla import SlaPolicy
from fieldapp.db import configure_engine
from fieldapp.db import init_app as init_db_hooks
from fieldapp.extensions import babel, compress, csrf, db, limiter, login_manager, migrate
from fieldapp.faces.admin import bp as admin_bp
from fieldapp.faces.api import init_api
from fieldapp.faces.auth import bp as auth_bp
from fieldapp.faces.dispatch import bp as dispatch_bp
from fieldapp.faces.phone import bp as pwa_bp
from fieldapp.faces.review import bp as review_bp
from fieldapp.faces.survey import bp as survey_bp
from fieldapp.faces.verify import bp as verify_bp
from fieldapp.scheduler.cli import init_app as init_scheduler
from fieldapp.seed import seed_if_empty
from fieldapp.settings import service as settings_service
from fieldapp.web import DatabaseInt

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _template_loader() -> ChoiceLoader:
    """The shared layout first, then each domain's own `templates/` folder.

    Faces carry theirs as blueprint template folders; a domain (parts, notifications) is no
    blueprint, so its folder is found here: a new domain's templates need no registration.
    """
    domain_folders = sorted(glob.glob(os.path.join(ROOT, "fieldapp", "*", "templates")))
    return ChoiceLoader([FileSystemLoader(os.path.join(ROOT, "templates")),
                         *(FileSystemLoader(folder) for folder in domain_folders)])


def create_app(config: dict | None = None) -> Flask:
    app = Flask("fieldapp", instance_path=os.path.join(ROOT, "instance"),
                static_folder=os.path.join(ROOT, "static"), static_url_path="/static",
                template_folder=os.path.join(ROOT, "templates"))
    os.makedirs(app.instance_path, exist_ok=True)
    app.jinja_loader = _template_loader()

    app.url_map.converters["int"] = DatabaseInt  # before any route is added
    hops = int(os.environ.get("FIELDAPP_PROXY_HOPS", "0") or 0)
    if hops:
        # Behind a reverse proxy: trust its X-Forwarded-* so rate limits see real clients.

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config.update(from_environment(app.instance_path))
    app.config.update(config or {})
    check_secret_key(app.config["SECRET_KEY"], app.config["FIELDAPP_ENV"] == "production")
    strict_json.init_app(app)  # never NaN or Infinity in what the app sends or stores

    # "Now" for every rule comes from this one clock (tests hand in a FixedClock).
    app.extensions["fieldapp.clock"] = app.config.get("CLOCK") or Clock()
    # The SLA policy in force: SlaPolicy's defaults until an admin saves /dispatch/settings;
    # then the stored one, re-read by every process (fieldapp/settings/service.py).
    app.extensions["fieldapp.policy"] = SlaPolicy(timezone=app.config["FIELDAPP_TIMEZONE"])
    accounts.use_hash_method(app.config["PASSWORD_HASH_METHOD"])

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_SYNCHRONOUS"])
    init_db_hooks(app)

    settings_service.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"),
                     render_as_batch=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    limiter.init_app(app)
    compress.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=os.path.join(ROOT, "fieldapp",
                                                                "translations"))


    app.register_blueprint(auth_bp)
    app.register_blueprint(pwa_bp)
    app.register_blueprint(dispatch_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(survey_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(admin_bp)
    init_api(app)


    blobstore.init_app(app)
    cli.init_app(app)
    web.init_app(app)

    init_scheduler(app)

    @login_manager.user_loader
    def load_user(session_id: str):
        return user_for_session(db.session, session_id)

    if app.config.get("AUTO_SEED_DEMO") and not app.config.get("TESTING"):
        seed_if_empty(app)
    return app


def select_locale() -> str:
    """The user's own choice first (kept on their account and in the session), else the
    browser's Accept-Language, else Chinese."""
    languages = ("zh_CN", "en")
    if request.blueprint == "survey":  # the customer's survey: Chinese unless they switch
        return "en" if request.args.get("lang") == "en" else "zh_CN"
    chosen = session.get("lang") or request.args.get("lang")
    if not chosen and current_user and getattr(current_user, "is_authenticated", False):
        chosen = current_user.locale
    if not chosen and getattr(g, "api_user", None) is not None:
        chosen = g.api_user.locale
    if chosen in languages:
        return chosen
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"], "zh-CN")
    return "en" if best == "en" else "zh_CN"

"""Flask extensions, created once and bound to the app in the factory."""
from flask import current_app, request
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from fieldapp.models import Base  # every domain's tables, so that create_all and Alembic see them

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Text the app sends (pages, the phone's scripts, sync JSON) goes out compressed: a first
# start on a slow mobile network is mostly these bytes. Images and PDFs are left as they are.
compress = Compress()


def login_failure_key() -> str:
    """Failures count per client address and per user name, so neither guessing many
    passwords for one user nor one password for many users gets far."""
    username = ""
    if request.is_json:
        body = request.get_json(silent=True)
        username = str(body.get("username", "")) if isinstance(body, dict) else ""
    else:
        username = request.form.get("username", "")
    return f"{get_remote_address()}|{username.strip().lower()[:64]}"


def _failed_sign_in(response) -> bool:
    return response.status_code == 401


def sign_in_limits(on_breach):
    """The limits on failed sign-ins, shared by both doors (the web form at /login and
    `POST /api/v1/auth/login`): one counter per address and user name (guessing one user's
    password), and one per address across all user names (one password tried on many
    users). Only failures count; while a limit holds, even the right password answers 429
    (with Retry-After)."""

    def decorate(view):
        view = limiter.shared_limit(
            lambda: current_app.config["LOGIN_FAILURE_LIMIT"], scope="sign-in-per-user",
            key_func=login_failure_key, methods=["POST"], deduct_when=_failed_sign_in,
            on_breach=on_breach)(view)
        return limiter.shared_limit(
            lambda: current_app.config["LOGIN_ADDRESS_LIMIT"], scope="sign-in-per-address",
            key_func=get_remote_address, methods=["POST"], deduct_when=_failed_sign_in,
            on_breach=on_breach)(view)

    return decorate

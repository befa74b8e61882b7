"""Flask extensions, created once and bound to the app in the factory."""
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from fieldapp.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


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

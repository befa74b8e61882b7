"""The review's blueprint, in its own module: the route modules import `bp` from here and
the package imports them, so no import cycle."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("review", __name__, template_folder="templates", url_prefix="/review")

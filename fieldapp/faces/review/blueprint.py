"""The review's blueprint, in its own module: the route modules import `bp` from here and
the package imports them, so no import cycle."""
from __future__ import annotations

from flask import Blueprint

from fieldapp.core.roles import REVIEW_ROLES
from fieldapp.web import role_required

bp = Blueprint("review", __name__, template_folder="templates", url_prefix="/review")

# Every page is for supervisors and admins only.
role_required(REVIEW_ROLES)(bp)

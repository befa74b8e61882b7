"""The administration at /admin/ (issue 20): what the office manages without code. Admins
only (one guard for the whole blueprint). Today: the phones (/admin/devices), each with its
user, last sync, the changes it said were waiting, and a revoke button (a lost phone).

Pages get their data from fieldapp/desk/pages.py and change things through `office_action`:
one commit, a refused change flashed in the reader's language, nothing stored half-way."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from fieldapp.accounts import service as accounts
from fieldapp.core.roles import ADMIN
from fieldapp.db import begin_write
from fieldapp.desk import pages
from fieldapp.extensions import db
from fieldapp.web import domain_ctx, flashed, office_action, role_required, web_actor

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")

role_required({ADMIN})(bp)


class RevokeForm(FlaskForm):
    """Only its CSRF token: the device is in the address."""


@bp.route("/devices")
def devices():
    return render_template("admin/devices.html", **pages.devices_page(db.session),
                           form=RevokeForm(formdata=None), tz=domain_ctx().policy.tz)


@bp.route("/devices/<device_id>/revoke", methods=["POST"])
def revoke_device(device_id):
    if not RevokeForm().validate_on_submit():
        abort(400)
    begin_write(db.session)
    back = url_for("admin.devices")
    return office_action(
        lambda: accounts.revoke_device(domain_ctx(), web_actor(), device_id[:36]),
        lambda device: flashed(_("Phone “%(name)s” of %(user)s is signed out.",
                                 name=device.name, user=device.user.display_name), back),
        back=back)

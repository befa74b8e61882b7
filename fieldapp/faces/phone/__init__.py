"""The technician's offline app at /app/: the shell, its manifest and its service worker.

The shell holds no user data (that comes from the API into IndexedDB), so the service worker
can precache it and serve it with no network. Its cache name is a hash of the shell's files
and of the server's registries as the phone reads them (/app/registry.js, `registry.py`):
any change to either makes a new version, which the app offers to the technician.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from fieldapp.accounts import service as accounts
from fieldapp.core import standard_checklists, states
from fieldapp.core.roles import TECHNICIAN
from fieldapp.extensions import db
from fieldapp.web import domain_ctx

from . import registry

bp = Blueprint("pwa", __name__, template_folder="templates", url_prefix="/app")

# Everything the app needs to start with no network, relative to static/.
SHELL_FILES = (
    "app/app.css",
    "app/js/main.js", "app/js/api.js", "app/js/storage.js", "app/js/outbox.js",
    "app/js/sync.js", "app/js/checklist.js", "app/js/camera.js", "app/js/signature.js",
    "app/js/i18n.js", "app/js/views.js", "app/js/local-rules.js", "app/js/parts.js",
    "app/js/inbox.js", "app/js/health.js",
    "vendor/idb/idb.js", "vendor/signature_pad/signature_pad.js",
    "icons/icon.svg", "icons/icon-192.png", "icons/icon-512.png", "icons/maskable-512.png",
)


@lru_cache(maxsize=8)
def _shell_version(static_folder: str, shell_html: str, salt: str, registry_js: str) -> str:
    digest = hashlib.sha256((salt + "\0" + shell_html + "\0" + registry_js).encode())
    for name in SHELL_FILES:
        with open(os.path.join(static_folder, name), "rb") as handle:
            digest.update(name.encode() + b"\0" + handle.read())
    return digest.hexdigest()[:16]


def shell_version() -> str:
    # SHELL_VERSION_SALT lets a deployment (or a test) force a new version by hand.
    return _shell_version(current_app.static_folder, _shell_html(),
                          str(current_app.config.get("SHELL_VERSION_SALT", "")),
                          registry.served_source())


# The shell's modules the server generates (not files under static/).
GENERATED_MODULES = (registry.URL,)
# Everything the service worker precaches.
PRECACHED_URLS = ("/app/", "/app/rules.json", *GENERATED_MODULES,
                  *(f"/static/{name}" for name in SHELL_FILES))
# Imported only when a signature pad is shown (signature.js); precached all the same.
LAZY_SIGNATURE_PAD = "vendor/signature_pad/signature_pad.js"
# Fetched at once beside main.js, not one import level after another: on a slow mobile
# network each level of the module graph costs a round trip before the first screen.
PRELOADED_MODULES = (*GENERATED_MODULES,
                     *(f"/static/{name}" for name in SHELL_FILES if name.endswith(".js")
                       and name not in ("app/js/main.js", LAZY_SIGNATURE_PAD)))


def _shell_html() -> str:
    return render_template("pwa/shell.html", preloaded_modules=PRELOADED_MODULES)


@bp.route("/")
def shell():
    response = Response(_shell_html(), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
def manifest():
    body = {
        "name": "fieldapp 售后上门服务",
        "short_name": "fieldapp",
        "description": "After-sales field service for technicians: today's jobs, the on-site "
                       "checklist, photos and signatures, offline.",
        "lang": "zh-CN",
        "start_url": "/app/",
        "scope": "/app/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0d2b52",
        "icons": [
            {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
            {"src": "/static/icons/icon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


@bp.route("/sw.js")
def service_worker():
    version = shell_version()
    script = render_template("pwa/sw.js", version=version, urls=json.dumps(PRECACHED_URLS))
    response = Response(script, mimetype="text/javascript")
    # The browser must always ask for the newest worker; the shell itself is cached by it.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response


@bp.route("/registry.js")
def registry_module():
    """The server's registries for the phone (job types, skills, mutation types, refusal
    messages in both languages); imported by the phone's modules, precached with the shell.
    Revalidated by its ETag: unchanged until the server's registries change."""
    source = registry.served_source()
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.set_etag(hashlib.sha256(source.encode()).hexdigest()[:32])
    return response.make_conditional(request)


@bp.route("/rules.json")
def rules():
    """The technician's part of the state machine and the phase names, from the one table in
    fieldapp.core, so the phone offers exactly the moves the server will accept."""
    moves: dict[str, list[dict]] = {}
    for (frm, to), (roles, requirements) in states.TRANSITIONS.items():
        if TECHNICIAN in roles:
            moves.setdefault(frm, []).append({"to": to, "requires": sorted(requirements)})
    body = {"statuses": list(states.STATUSES), "technician_moves": moves,
            "timezone": current_app.config["FIELDAPP_TIMEZONE"],
            "phases": [{"key": key, "label": standard_checklists.PHASE_LABELS[key]}
                       for key in standard_checklists.PHASES]}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/version")
def version():
    return jsonify({"version": shell_version()})


@bp.route("/session")
def web_session():
    """Lets the app pick up a web sign-in: who is signed in, and a CSRF token to trade the
    session for a device token without typing the password again."""
    if not current_user.is_authenticated or current_user.role != TECHNICIAN:
        return jsonify({"user": None}), 200
    return jsonify({"user": current_user.public(), "csrf_token": generate_csrf()})


@bp.route("/device-token", methods=["POST"])
def device_token():
    """Trade a technician's web session (with CSRF) for a bearer token for this device."""
    if not current_user.is_authenticated or current_user.role != TECHNICIAN:
        return jsonify({"error": "unauthorized", "message": "sign in first",
                        "details": {}}), 401
    body = request.get_json(silent=True) or {}
    name = str(body.get("device_name") or request.user_agent.string or "phone")[:120]
    device, token = accounts.issue_device(domain_ctx(), current_user._get_current_object(),
                                          name, resume_device_id=body.get("device_id"))
    db.session.commit()
    return jsonify({"token": token, "device_id": device.id, "user": current_user.public()})

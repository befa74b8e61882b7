"""Bearer tokens, one per device, for every API call but sign-in."""
from __future__ import annotations

from functools import wraps

from flask import g, request

from fieldapp.accounts.context import Actor
from fieldapp.accounts.service import device_for_token, revoked_by_someone
from fieldapp.core.errors import Forbidden
from fieldapp.db import begin_write
from fieldapp.extensions import db
from fieldapp.web import clock

from .errors import error_response


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_required(roles=None):
    """Authenticate the device; optionally require one of `roles` (else 403)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            token = bearer_token()
            device = device_for_token(db.session, token)
            if device is None:
                # A phone cut off by a person hears why (issue 20), not just "sign in".
                code = "device_revoked" if revoked_by_someone(db.session, token) else "unauthorized"
                return error_response(code, 401,
                                      headers={"WWW-Authenticate": 'Bearer realm="fieldapp"'})
            g.api_device, g.api_user = device, device.user
            now = clock().now()
            # Touch at most once a minute: last-seen feeds the dispatcher's board.
            if device.last_seen_at is None or (now - device.last_seen_at).total_seconds() > 60:
                begin_write(db.session)  # SQLite: the read above cannot turn into a write
                device.last_seen_at = now
                db.session.commit()
            if roles is not None and device.user.role not in roles:
                raise Forbidden("forbidden", {"role": device.user.role})
            return view(*args, **kwargs)

        wrapper._token_required = True
        wrapper._token_roles = roles  # the OpenAPI documents a 403 when roles are set
        return wrapper

    return decorator


def api_actor() -> Actor:
    return Actor(user=g.api_user, device_id=g.api_device.id)

from flask import g, jsonify, request
from flask_login import current_user, logout_user

from fieldapp.accounts import service as accounts
from fieldapp.accounts.models import LoginFailure
from fieldapp.extensions import db, sign_in_limits
from fieldapp.web import clock, domain_ctx

from .errors import error_response
from .parsing import ApiBlueprint as Blueprint
from .schemas import LoginResultSchema, LoginSchema, MeSchema

blp = Blueprint("api_auth", __name__, url_prefix="/api/v1/auth",
                description="Sign in a device and get its bearer token; sign it out.")


@blp.route("/login", methods=["POST"])
@sign_in_limits(on_breach=lambda limit: error_response("too_many_attempts", 429))
@blp.arguments(LoginSchema)
@blp.response(200, LoginResultSchema)
@blp.alt_response(401, description="Wrong credentials")
@blp.alt_response(429, description="Too many failed attempts")
@blp.doc(security=[])
def login(body):
    """Sign in a device: answers its bearer token."""
    ctx = domain_ctx()
    user = accounts.authenticate(db.session, body["username"], body["password"])
    if user is None:
        db.session.add(LoginFailure(username=body["username"][:64],
                                    remote_addr=request.remote_addr, at=clock().now()))
        db.session.commit()
        return error_response("invalid_credentials", 401)
    device, token = accounts.issue_device(
        ctx, user, body["device_name"],
        resume_device_id=str(body["device_id"]) if body.get("device_id") else None)
    db.session.commit()
    return jsonify({"token": token, "device_id": device.id, "user": user.public()})


@blp.endpoint("POST", "/logout", answers=(204,))
def logout():
    """Revoke this device's token. When the call also carries the same user's web session
    (the phone app signing out in the browser it was signed in with), that session ends
    too: otherwise reopening the app would trade it for a new token without a password."""
    g.api_device.revoked_at = clock().now()
    web_user = current_user._get_current_object() if current_user.is_authenticated else None
    if web_user is not None and web_user.id == g.api_user.id:
        accounts.end_web_sessions(web_user)
    db.session.commit()
    if web_user is not None and web_user.id == g.api_user.id:
        logout_user()
    return "", 204


@blp.endpoint("GET", "/me", answers=(200, MeSchema))
@blp.alt_response(401, description="Token missing, unknown or revoked")
def me():
    """The signed-in user and device."""
    return jsonify({"user": g.api_user.public(), "device_id": g.api_device.id,
                    "last_seq": g.api_device.last_seq})

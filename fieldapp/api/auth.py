from flask import current_app, g, jsonify, request

from fieldapp.extensions import db, limiter, login_failure_key
from fieldapp.models import LoginFailure
from fieldapp.services import accounts
from fieldapp.web import clock, domain_ctx

from .auth_tokens import token_required
from .errors import error_response
from .parsing import ApiBlueprint as Blueprint
from .schemas import LoginResultSchema, LoginSchema, MeSchema

blp = Blueprint("api_auth", __name__, url_prefix="/api/v1/auth",
                description="Sign in a device and get its bearer token; sign it out.")


def _login_limit() -> str:
    return current_app.config["LOGIN_FAILURE_LIMIT"]


@blp.route("/login", methods=["POST"])
@limiter.limit(_login_limit, key_func=login_failure_key,
               deduct_when=lambda response: response.status_code == 401,
               on_breach=lambda limit: error_response("too_many_attempts", 429))
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


@blp.route("/logout", methods=["POST"])
@token_required()
@blp.response(204)
def logout():
    """Revoke this device's token."""
    g.api_device.revoked_at = clock().now()
    db.session.commit()
    return "", 204


@blp.route("/me", methods=["GET"])
@token_required()
@blp.response(200, MeSchema)
@blp.alt_response(401, description="Token missing, unknown or revoked")
def me():
    """The signed-in user and device."""
    return jsonify({"user": g.api_user.public(), "device_id": g.api_device.id,
                    "last_seq": g.api_device.last_seq})

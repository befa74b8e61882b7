"""Users, passwords and device tokens. Passwords are hashed with werkzeug's scrypt; device
tokens are random and stored only as their SHA-256, so a database leak gives no token."""
from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from fieldapp.core.errors import DomainError
from fieldapp.core.roles import ROLES
from fieldapp.models import Device, User
from fieldapp.services.context import Ctx

# New password hashes use the app's PASSWORD_HASH_METHOD (scrypt; the tests pick a cheap
# PBKDF2), which the factory hands to use_hash_method. Verifying reads the method from the hash.
_hash_method = "scrypt"
# Compared against when the user does not exist, so timing does not tell who exists.
_DUMMY_HASH = generate_password_hash("fieldapp-no-such-user", method=_hash_method)
MIN_PASSWORD = 8


def create_user(ctx: Ctx, username: str, password: str, role: str, display_name: str,
                phone: str | None = None, email: str | None = None) -> User:
    if role not in ROLES:
        raise DomainError("bad_role", {"role": role, "allowed": ROLES})
    if not username or len(username) > 64:
        raise DomainError("bad_username", {})
    if len(password or "") < MIN_PASSWORD:
        raise DomainError("password_too_short", {"min": MIN_PASSWORD})
    if ctx.session.execute(select(User.id).where(User.username == username)).first():
        raise DomainError("username_taken", {"username": username}, status=409)
    user = User(username=username, password_hash=new_password_hash(password), role=role,
                display_name=display_name or username, phone=phone, email=email, active=True,
                created_at=ctx.now())
    ctx.session.add(user)
    ctx.session.flush()
    return user


def new_password_hash(password: str) -> str:
    return generate_password_hash(password, method=_hash_method)


def use_hash_method(method: str) -> None:
    global _hash_method, _DUMMY_HASH
    if method != _hash_method:
        _hash_method = method
        _DUMMY_HASH = generate_password_hash("fieldapp-no-such-user", method=method)


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or "") or not user.active:
        return None
    return user


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_device(ctx: Ctx, user: User, name: str, resume_device_id: str | None = None
                 ) -> tuple[Device, str]:
    """A new token for a device. A phone signing in again after its token expired may name
    its old device id to keep its place in the mutation sequence."""
    token = secrets.token_urlsafe(32)
    device = None
    if resume_device_id:
        device = ctx.session.get(Device, resume_device_id)
        if device is None or device.user_id != user.id:
            device = None
    if device is None:
        device = Device(user_id=user.id, name=name[:120], last_seq=0, created_at=ctx.now(),
                        token_hash=hash_token(token))
        ctx.session.add(device)
    else:
        device.token_hash = hash_token(token)
        device.revoked_at = None
        device.name = name[:120] or device.name
    device.last_seen_at = ctx.now()
    ctx.session.flush()
    return device, token


def device_for_token(session: Session, token: str) -> Device | None:
    if not token:
        return None
    device = session.execute(select(Device).where(Device.token_hash == hash_token(token))
                             ).scalar_one_or_none()
    if device is None or device.revoked_at is not None or not device.user.active:
        return None
    return device

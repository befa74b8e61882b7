"""Users, passwords and device tokens. Passwords are hashed with werkzeug's scrypt; device
tokens are random and stored only as their SHA-256, so a database leak gives no token."""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from fieldapp.accounts.context import Actor, Ctx
from fieldapp.accounts.models import Device, DeviceEvent, User
from fieldapp.core.errors import DomainError, Forbidden, NotFound
from fieldapp.core.roles import ADMIN, ROLES

# New password hashes use the app's PASSWORD_HASH_METHOD (scrypt; the tests pick a cheap
# PBKDF2), which the factory hands to use_hash_method. Verifying reads the method from the hash.
_hash_method = "scrypt"
# Compared against when the user does not exist, so timing does not tell who exists.
_DUMMY_HASH = generate_password_hash("fieldapp-no-such-user", method=_hash_method)
MIN_PASSWORD = 12
MAX_PASSWORD = 256  # the sign-in form's limit: a longer one could never be typed in
# Django's list of the 20,000 most common passwords, lower case (licence beside it).
COMMON_PASSWORDS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "data", "common-passwords.txt.gz")


def create_user(ctx: Ctx, username: str, password: str, role: str, display_name: str,
                phone: str | None = None, email: str | None = None) -> User:
    if role not in ROLES:
        raise DomainError("bad_role", {"role": role, "allowed": ROLES})
    if not username or len(username) > 64:
        raise DomainError("bad_username", {})
    check_password(password, username)
    if ctx.session.execute(select(User.id).where(User.username == username)).first():
        raise DomainError("username_taken", {"username": username}, status=409)
    user = User(username=username, password_hash=new_password_hash(password), role=role,
                display_name=display_name or username, phone=phone, email=email, active=True,
                created_at=ctx.now())
    ctx.session.add(user)
    ctx.session.flush()
    return user


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def check_password(password: str | None, username: str) -> None:
    """The rule for every password set (contract, "Administration"): at least 12 characters,
    not a common password, not the user name. The user name does not count towards the 12,
    so `boss` + `12345678` is refused too."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise DomainError("password_too_short", {"min": MIN_PASSWORD})
    if len(password) > MAX_PASSWORD:
        raise DomainError("password_too_long", {"max": MAX_PASSWORD})
    lowered = password.lower()
    # One character repeated, or two or three (121212121212), is as weak as a listed one.
    if lowered in common_passwords() or len(set(lowered)) < 4:
        raise DomainError("password_too_common", {})
    name = (username or "").strip().lower()
    if name and (lowered == name or (len(name) >= 3 and len(lowered.replace(name, ""))
                                     < MIN_PASSWORD)):
        raise DomainError("password_like_username", {"min": MIN_PASSWORD})


def set_password(user: User, password: str) -> None:
    """A new password; every web session of the user ends (devices keep their tokens)."""
    check_password(password, user.username)
    user.password_hash = new_password_hash(password)
    end_web_sessions(user)


def set_active(user: User, active: bool) -> None:
    """Deactivated: no sign-in, every token answers 401, every web session ends."""
    if user.active and not active:
        end_web_sessions(user)
    user.active = active


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


def user_for_session(session: Session, session_id: str) -> User | None:
    """The active user a web session or remember-me cookie names ("<id>.<session version>",
    `User.get_id`), or None once that version has been ended."""
    user_id, _, version = (session_id or "").partition(".")
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) + len(version) > 24:
        return None
    user = session.get(User, int(user_id))
    if user is None or not user.active or (user.session_version or 0) != int(version):
        return None
    return user


def end_web_sessions(user: User) -> None:
    """Every web session and remember-me cookie of this user stops working (on every
    browser): their cookies carry the old version. Device tokens are not touched."""
    user.session_version = (user.session_version or 0) + 1


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
        if device.revoked_by_id is not None:  # revoked, now back with the password: on record
            ctx.session.add(DeviceEvent(subject_id=device.id, type="device_signed_in_again",
                                        actor_id=user.id, actor_role=user.role,
                                        device_id=device.id, data={}, server_at=ctx.now()))
        device.token_hash = hash_token(token)
        device.revoked_at = None
        device.revoked_by_id = None
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


def revoked_by_someone(session: Session, token: str) -> bool:
    """Whether this token's device was revoked by a person (issue 20), not signed out by
    itself: its 401 then says `device_revoked`, so the phone can tell its user why."""
    if not token:
        return False
    return session.execute(select(Device.id).where(Device.token_hash == hash_token(token),
                                                   Device.revoked_by_id.is_not(None))
                           ).first() is not None


def may_manage_devices_of(actor: Actor, user_id: int) -> bool:
    """An admin manages every device; anyone else only their own (a lost phone)."""
    return actor.role == ADMIN or actor.id == user_id


def list_devices(ctx: Ctx, actor: Actor, user_id: int | None = None) -> list[Device]:
    """Devices, newest first: every one for an admin, else the actor's own (asking for
    another user's is a 403)."""
    if user_id is None and actor.role != ADMIN:
        user_id = actor.id
    if user_id is not None and not may_manage_devices_of(actor, user_id):
        raise Forbidden("forbidden", {"role": actor.role})
    stmt = select(Device).order_by(Device.created_at.desc(), Device.id)
    if user_id is not None:
        stmt = stmt.where(Device.user_id == user_id)
    return list(ctx.session.execute(stmt).scalars())


def pending_reported(device: Device) -> int | None:
    """How many changes the phone last said were waiting on it (push and pull report it);
    None: it never said."""
    pending = (device.client or {}).get("pending")
    return pending if isinstance(pending, int) else None


def revoke_device(ctx: Ctx, actor: Actor, device_id: str) -> Device:
    """Cut off a device (a lost phone): its token answers 401 `device_revoked` from now on and
    its user's web sessions end (the password is needed again). What it had not sent is
    recorded as lost (the event's `pending`). Revoking again changes nothing, records nothing.
    Signing in again with the password on that phone makes it live again (`issue_device`)."""
    device = ctx.session.execute(select(Device).where(Device.id == device_id).with_for_update()
                                 ).scalar_one_or_none()
    if device is None:
        raise NotFound("device")
    if not may_manage_devices_of(actor, device.user_id):
        raise Forbidden("forbidden", {"role": actor.role})
    if device.revoked_by_id is not None:
        return device
    now = ctx.now()
    # A phone that signed itself out already had no token; it still becomes "revoked".
    device.revoked_at = device.revoked_at or now
    device.revoked_by_id = actor.id
    # A lost phone may still hold the user's web session, which /app/device-token would trade
    # for a new token without a password: end every web session of the device's user.
    end_web_sessions(device.user)
    ctx.session.add(DeviceEvent(subject_id=device.id, type="device_revoked", actor_id=actor.id,
                                actor_role=actor.role, device_id=actor.device_id,
                                data={"pending": pending_reported(device),
                                      "user_id": device.user_id},
                                server_at=now))
    ctx.session.flush()
    return device

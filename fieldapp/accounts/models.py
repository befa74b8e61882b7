"""People and their devices."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.orm import AuditEventColumns, Base, UTCDateTime, append_only, new_id


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Part of the id every web session and remember-me cookie carries: raising it (sign-out,
    # a new password, deactivation) makes every cookie issued before no longer match.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # Flask-Login's protocol, written out so the model needs no Flask import.
    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version or 0}"

    def public(self) -> dict:
        return {"id": self.id, "username": self.username, "role": self.role,
                "display_name": self.display_name}


class Device(Base):
    """One phone (or integration) signed in as one user. Its token is stored hashed; its
    `last_seq` is the highest mutation seq the server has processed for it."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Issue 16: what the phone last reported about itself in a push (`client`: storage
    # {persisted, sw, idb} and pending count, checked shape), and its clock's offset from the
    # server's (receipt minus the push's `sent_at`) in milliseconds, when it sent one.
    client: Mapped[dict | None] = mapped_column(JSON)
    clock_offset_ms: Mapped[int | None] = mapped_column(BigInteger)
    # Issue 20: who revoked it (an admin, or its own user: a lost phone). Set, its token
    # answers 401 `device_revoked`; a phone's own sign-out leaves it empty (`unauthorized`).
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])


@append_only("device events")
class DeviceEvent(AuditEventColumns, Base):
    """A device's audit trail (issue 20): `revoked`, with what it had not sent (`data.pending`,
    as the phone last reported it). `device_id` (the mixin's) is the device the actor used."""

    __tablename__ = "device_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)


class LoginFailure(Base):
    """Failed sign-ins, for the audit and for operators; the rate limit itself is Flask-Limiter."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

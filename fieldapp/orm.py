"""The base of every table (plain SQLAlchemy, no Flask): `Base`, the `UTCDateTime` column type
and `new_id`. Conventions: ids the phone makes are UUID strings chosen on the device, so a
replay finds the row it already made; every time is stored as UTC and read back
timezone-aware; `change_seq` columns hold change numbers (`fieldapp.jobs.counters`: a counter
row on SQLite, the transaction id on PostgreSQL), never a clock: the sync pull cursor is built
on them. Flask-SQLAlchemy is handed this Base in `extensions.py`. The columns several tables
share (an audit event's, a record's time of record, who recorded it) are mixins here, so each
is written once."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, ForeignKey, String, event
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


class Base(DeclarativeBase):
    pass


class AuditTrailIsAppendOnly(Exception):
    """An append-only table (job events, complaint events, setting changes) was asked to change."""


def append_only(what: str):
    """Class decorator: the ORM refuses to update or delete a row of this table (an audit
    trail); `what` names its rows in the error."""

    def guard(model):
        def refuse(mapper, connection, target):
            raise AuditTrailIsAppendOnly(f"{what} are never changed or deleted")

        event.listen(model, "before_update", refuse)
        event.listen(model, "before_delete", refuse)
        return model

    return guard


# Mixin columns follow the table's own columns (SQLAlchemy's order); a `sort_order` puts
# them where the tables always had them, so the schema stays as the migrations built it.

class AuditEventColumns:
    """One entry of an audit trail (JobEvent, ComplaintEvent), after the id of what it is
    about: what happened, who did it in which role, from which device, its data, when the
    server recorded it."""

    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    server_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @declared_attr
    def actor(cls) -> Mapped[User | None]:  # noqa: F821 (the accounts' model, by name)
        return relationship("User")


class TimeOfRecordColumns:
    """Issue 16, last in the row: the phone's raw clock when it was done (`device_at`), and
    the time of record (`at`): that clock corrected by the device's offset, the server's
    time for an office change."""

    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime, sort_order=1)
    at: Mapped[datetime | None] = mapped_column(UTCDateTime, sort_order=1)


class RecordedByColumns:
    """Last in the row: who recorded it (`by`) and when (`at`)."""

    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), sort_order=1)
    at: Mapped[datetime] = mapped_column(UTCDateTime, sort_order=1)

    @declared_attr
    def by(cls) -> Mapped[User]:  # noqa: F821 (the accounts' model, by name)
        return relationship("User")

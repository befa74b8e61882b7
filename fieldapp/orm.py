"""The base of every table (plain SQLAlchemy, no Flask): `Base`, the `UTCDateTime` column type
and `new_id`. Conventions: ids the phone makes are UUID strings chosen on the device, so a
replay finds the row it already made; every time is stored as UTC and read back
timezone-aware; `change_seq` columns come from one server-side counter (`Counter`), never a
clock: the sync pull cursor is built on them. Flask-SQLAlchemy is handed this Base in
`extensions.py`."""
from __future__ import annotations

import uuid
from datetime import timezone

from sqlalchemy import (
    DateTime,
)
from sqlalchemy.orm import DeclarativeBase
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

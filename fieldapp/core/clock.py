"""The one source of "now": SLA clocks, scheduled work and audit stamps all ask a Clock,
so tests move time forward instead of sleeping."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Clock:
    """The real clock (UTC, timezone-aware)."""

    def now(self) -> datetime:
        return utcnow()


class FixedClock(Clock):
    """A clock that stands still until told to move: for tests and `--now` runs."""

    def __init__(self, at: datetime | None = None):
        self._lock = threading.Lock()
        self._at = ensure_aware(at or utcnow())

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        with self._lock:
            self._at = ensure_aware(at)

    def advance(self, delta: timedelta | None = None, **kwargs) -> datetime:
        with self._lock:
            self._at = self._at + (delta or timedelta(**kwargs))
            return self._at


def ensure_aware(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC (SQLite hands them back naive)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso(value: datetime | None) -> str | None:
    """UTC with a `Z`, whatever offset the value came in with (the audit trail too)."""
    return ensure_aware(value).isoformat().replace("+00:00", "Z") if value else None

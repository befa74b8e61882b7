"""The scheduler's bookkeeping: one firing per rule and subject, a lease per task."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.orm import Base, UTCDateTime


class RuleFiring(Base):
    """A timed rule that has fired for one subject (a breached clock, a job's reminder for
    one day, a stale device period): (rule, key) is unique, so a rule fires once and never
    again, whichever process runs it."""

    __tablename__ = "rule_firings"
    __table_args__ = (UniqueConstraint("rule", "key", name="uq_rule_firings_rule_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SchedulerLease(Base):
    """Which scheduler process runs a task right now: one row per task; a process takes the
    lease when it is free or expired (fieldapp/scheduler)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_result: Mapped[str | None] = mapped_column(Text)

"""The desk's settings and their append-only change log."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.orm import Base, UTCDateTime, append_only


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)


@append_only("setting changes")
class SettingChange(Base):
    """Who changed a setting, when, from what to what (append-only)."""

    __tablename__ = "setting_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    old: Mapped[object | None] = mapped_column(JSON)
    new: Mapped[object] = mapped_column(JSON)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

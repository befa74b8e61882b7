"""Sign-off: the seal chain."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.accounts.models import User
from fieldapp.orm import Base, UTCDateTime


class Seal(Base):
    """The tamper-evident seal of one approved job (fieldapp/core/seal.py). `job_id` is not a
    foreign key on purpose: a sealed job deleted from the database leaves its seal behind, and
    `flask verify` names it. `seq` is the position in the chain; `previous_digest` the digest
    of seal `seq - 1`. `record` keeps the sealed payload, so verify can say what changed (the
    digest, not this copy, is the proof)."""

    __tablename__ = "seals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36), unique=True)
    job_ref: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    digest: Mapped[str] = mapped_column(String(64))
    previous_digest: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    last_event_id: Mapped[int] = mapped_column(Integer)
    review_id: Mapped[int | None] = mapped_column(Integer)
    record: Mapped[dict] = mapped_column(JSON)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sealed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    sealed_by: Mapped[User] = relationship()

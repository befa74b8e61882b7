"""Return visits (回访) and the customer survey."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.accounts.models import User
from fieldapp.complaints.models import Complaint
from fieldapp.jobs.models import Job
from fieldapp.orm import Base, UTCDateTime


class ReturnVisit(Base):
    """The after-sales call (回访) some days after a job was approved: one per job (the unique
    `job_id` stops a second one, even from two processes at once). Answered once, by the office
    on the phone (`channel` phone) or by the customer on /survey/<token> (`channel` survey).
    The survey token is stored only as its SHA-256; a low score or an open issue links the
    complaint or follow-up job it opened (fieldapp/visits/service.py)."""

    __tablename__ = "return_visits"
    __table_args__ = (Index("ix_return_visits_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), unique=True)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="due")
    channel: Mapped[str | None] = mapped_column(String(16))
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    issues: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The survey link's token is HMAC(SECRET_KEY, survey_salt); only its SHA-256 is kept.
    survey_salt: Mapped[str | None] = mapped_column(String(64))
    survey_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    survey_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    survey_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    survey_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    complaint_id: Mapped[str | None] = mapped_column(ForeignKey("complaints.id"))
    followup_job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship(foreign_keys=[job_id])
    technician: Mapped[User | None] = relationship(foreign_keys=[technician_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    complaint: Mapped[Complaint | None] = relationship()
    followup_job: Mapped[Job | None] = relationship(foreign_keys=[followup_job_id])

"""Complaints, their contacts, linked jobs and append-only events."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.accounts.models import User
from fieldapp.jobs.models import Customer, Job
from fieldapp.orm import (
    AuditEventColumns,
    Base,
    RecordedByColumns,
    UTCDateTime,
    append_only,
    new_id,
)


class Complaint(Base):
    """A customer's complaint (投诉): who, about what, how serious, and how it was handled.
    Its clocks are SlaClock rows with `complaint_id`; its audit trail is ComplaintEvent."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_created", "created_at", "id"),
                      Index("ix_complaints_status_created", "status", "created_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    about: Mapped[str] = mapped_column(String(16))
    about_technician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    content: Mapped[str] = mapped_column(Text)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    complainant_name: Mapped[str] = mapped_column(String(120))
    complainant_phone: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    evidence_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    result: Mapped[str | None] = mapped_column(Text)
    customer_satisfied: Mapped[bool | None] = mapped_column(Boolean)
    escalated_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    job: Mapped[Job | None] = relationship()
    escalated_to: Mapped[User | None] = relationship(foreign_keys=[escalated_to_id])
    about_technician: Mapped[User | None] = relationship(foreign_keys=[about_technician_id])


class ComplaintContact(RecordedByColumns, Base):
    """Each call with the complainant, and whether they said they were satisfied."""

    __tablename__ = "complaint_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)


class ComplaintJob(Base):
    """A job spawned from a complaint (a return visit to put things right), linked both ways."""

    __tablename__ = "complaint_jobs"
    __table_args__ = (UniqueConstraint("complaint_id", "job_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"))
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


@append_only("complaint events")
class ComplaintEvent(AuditEventColumns, Base):
    """The complaint's audit trail: append-only, like JobEvent."""

    __tablename__ = "complaint_events"
    __table_args__ = (Index("ix_complaint_events", "complaint_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"))

"""Customers, jobs and everything recorded on a job (answers, photos, signatures, notes,
contacts, SLA clocks, reviews, conflicts, its audit trail), and the change counter."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.accounts.models import User
from fieldapp.jobs import search_index
from fieldapp.orm import (
    AuditEventColumns,
    Base,
    RecordedByColumns,
    TimeOfRecordColumns,
    UTCDateTime,
    append_only,
    new_id,
)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(32))
    # Digits only, so a returning customer is found whatever way the number was typed.
    phone_key: Mapped[str] = mapped_column(String(32), index=True)
    address: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChecklistTemplate(Base):
    """One version of the checklist for one job type. A version never changes once a job
    uses it; a new wording is a new version."""

    __tablename__ = "checklist_templates"
    __table_args__ = (UniqueConstraint("job_type", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_type: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    items: Mapped[list[ChecklistItem]] = relationship(
        order_by="ChecklistItem.position", cascade="all, delete-orphan")


class ChecklistItem(Base):
    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("template_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("checklist_templates.id"))
    position: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    required: Mapped[bool] = mapped_column(Boolean)
    min_photos: Mapped[int | None] = mapped_column(Integer)
    options: Mapped[list | None] = mapped_column(JSON)
    phase: Mapped[str] = mapped_column(String(24))
    label_zh: Mapped[str] = mapped_column(String(500))
    label_en: Mapped[str] = mapped_column(String(500))

    def as_rule(self) -> dict:
        """The plain dict the core's completion rule and the API speak."""
        out = {"key": self.key, "kind": self.kind, "required": self.required,
               "phase": self.phase, "label": {"zh-CN": self.label_zh, "en": self.label_en}}
        if self.kind == "photo":
            out["min_photos"] = self.min_photos or 1
        if self.kind == "choice":
            out["options"] = self.options or []
        return out


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # An up-to-date pull for one technician is an index range scan on this pair.
        Index("ix_jobs_technician_change", "technician_id", "change_seq"),
        Index("ix_jobs_status_scheduled", "status", "scheduled_start"),
        # The desk: a day's board, and the newest-first lists paged by (created_at, id).
        Index("ix_jobs_scheduled_start", "scheduled_start"),
        Index("ix_jobs_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(120))
    contact_phone: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(500))
    product_model: Mapped[str] = mapped_column(String(200))
    problem: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    scheduled_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checklist_template_id: Mapped[str] = mapped_column(ForeignKey("checklist_templates.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Issue 16, time of record: when the technician did it (device time corrected by the
    # device's clock offset, see sync/engine.py), not when it reached the server. First
    # arrival on site, first start of work (in_progress), latest completion.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    work_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_reason: Mapped[str | None] = mapped_column(Text)
    # Open late or conflicting evidence from a phone waits for an office decision.
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # Indexed only with technician_id (ix_jobs_technician_change): an index on change_seq
    # alone let PostgreSQL's planner switch to it for the pull as the table grew (issue 18).
    change_seq: Mapped[int] = mapped_column(BigInteger)

    customer: Mapped[Customer] = relationship()
    technician: Mapped[User | None] = relationship(foreign_keys=[technician_id])
    template: Mapped[ChecklistTemplate] = relationship()


# The desk's search index (FTS5 / pg_trgm) is made with these tables, as the migration makes it.
search_index.attach(Customer.__table__, Job.__table__)


class JobAssignment(Base):
    """Who held a job when: tells a late phone push from a reassigned technician (conflict,
    evidence kept) apart from a push for a job that was never theirs (not found)."""

    __tablename__ = "job_assignments"
    __table_args__ = (Index("ix_assign_tech_job", "technician_id", "job_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    technician_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unassigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SyncRemoval(Base):
    """A job left a technician's view (reassigned away): sent once in `removed` on pull."""

    __tablename__ = "sync_removals"
    __table_args__ = (Index("ix_removal_user_change", "user_id", "change_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))
    change_seq: Mapped[int] = mapped_column(BigInteger)


class ChecklistAnswer(TimeOfRecordColumns, Base):
    __tablename__ = "checklist_answers"
    __table_args__ = (UniqueConstraint("job_id", "item_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))
    item_key: Mapped[str] = mapped_column(String(64))
    value: Mapped[object] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(36))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)  # received (server)


class Photo(Base):
    __tablename__ = "photos"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    item_key: Mapped[str | None] = mapped_column(String(64))
    caption: Mapped[str | None] = mapped_column(String(500))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # received (server)
    # Issue 16: when it was taken (corrected device time), the phone's raw clock, and when
    # the technician took it back (`photo.remove`): kept, no longer counted.
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Signature(TimeOfRecordColumns, Base):
    __tablename__ = "signatures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    signer_name: Mapped[str] = mapped_column(String(120))
    signer_relation: Mapped[str] = mapped_column(String(60))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # received (server)


class Note(TimeOfRecordColumns, Base):
    __tablename__ = "notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # received (server)

    author: Mapped[User] = relationship()


class ContactAttempt(RecordedByColumns, Base):
    """A phone call to the customer; reaching them stops the first-contact clock."""

    __tablename__ = "contact_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class SlaClock(Base):
    __tablename__ = "sla_clocks"
    __table_args__ = (UniqueConstraint("job_id", "name"),
                      UniqueConstraint("complaint_id", "name",
                                       name="uq_sla_clocks_complaint_name"),
                      Index("ix_sla_open_due", "met_at", "due_at"),
                      # Clocks still running (not met, not stopped), by due time: what the
                      # desk's breach list and counts read, whatever the history's size.
                      Index("ix_sla_live", "stopped_at", "met_at", "due_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"))
    # A clock belongs to a job or (escalation, coordination) to a complaint.
    complaint_id: Mapped[str | None] = mapped_column(
        ForeignKey("complaints.id", name="fk_sla_clocks_complaint_id"))
    name: Mapped[str] = mapped_column(String(24))
    # The limit's basis when the clock started (core.sla.UNITS): how "time left" is counted.
    unit: Mapped[str | None] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the job or complaint closes (cancelled, approved, closed) with the clock unmet:
    # it no longer runs. A late clock stays breached on record.
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Review(RecordedByColumns, Base):
    """A supervisor's decision on a completed job."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)


class Conflict(Base):
    """Evidence that reached the server after the job changed under the device (reassigned,
    cancelled, approved). Kept whole for the office; never applied to the job by itself."""

    __tablename__ = "conflicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str] = mapped_column(String(36))
    mutation_id: Mapped[str] = mapped_column(String(36))
    mutation_type: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(32))
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str | None] = mapped_column(Text)


@append_only("job events")
class JobEvent(AuditEventColumns, TimeOfRecordColumns, Base):
    """The job's audit trail: append-only."""

    __tablename__ = "job_events"
    __table_args__ = (Index("ix_events_job", "job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))


class Counter(Base):
    """Named counters bumped inside the writing transaction (`UPDATE ... RETURNING`). The row
    lock orders commits, so a reader that sees value N also sees every change below N."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)

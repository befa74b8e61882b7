"""The domain model: plain SQLAlchemy (no Flask), so that `sync/` and the scheduled work can
use it with any Session. Flask-SQLAlchemy is handed this Base in `extensions.py`.

Conventions:
- ids the phone makes (mutations, photos, signatures, parts requests, receipts) are UUID
  strings chosen on the device, so a replay finds the row it already made;
- every time is stored as UTC and read back timezone-aware (`UTCDateTime`);
- `change_seq` columns come from one server-side counter (`Counter`), never a clock: the sync
  pull cursor is built on them.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

from sqlalchemy import (JSON, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer,
                        String, Text, UniqueConstraint, event)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
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


# --- people and devices ------------------------------------------------------------------

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

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """Failed sign-ins, for the audit and for operators; the rate limit itself is Flask-Limiter."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


# --- customers and jobs ------------------------------------------------------------------

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
    change_seq: Mapped[int] = mapped_column(BigInteger, index=True)

    customer: Mapped[Customer] = relationship()
    technician: Mapped[User | None] = relationship(foreign_keys=[technician_id])
    template: Mapped[ChecklistTemplate] = relationship()


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


class ChecklistAnswer(Base):
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
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the phone's raw clock
    # Issue 16: when it was answered (corrected device time).
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Blob(Base):
    """Bytes held in the blob store, by content address. Written only after the bytes were
    hashed, type-checked and stored atomically."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class BlobUpload(Base):
    """Who sent a blob's bytes (every user who did, not only the first): a technician may
    attach only a blob they uploaded or one a job they may see already uses, so a hash
    learned elsewhere opens no photo."""

    __tablename__ = "blob_uploads"

    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


class Signature(Base):
    __tablename__ = "signatures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    signer_name: Mapped[str] = mapped_column(String(120))
    signer_relation: Mapped[str] = mapped_column(String(60))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # received (server)
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Issue 16: when it was signed (corrected device time).
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    author_role: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # received (server)
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Issue 16: when it was written (corrected device time).
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship()


class ContactAttempt(Base):
    """A phone call to the customer; reaching them stops the first-contact clock."""

    __tablename__ = "contact_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


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


class Review(Base):
    """A supervisor's decision on a completed job."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    by: Mapped[User] = relationship()


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


class PartsRequest(Base):
    __tablename__ = "parts_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    part_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # Issue 8: the cause (补件和更换配件记录 needs it before anything is ordered), the photos
    # the phone sent, and the warehouse release, allowed only on an approved request.
    cause: Mapped[str | None] = mapped_column(String(32), index=True)
    photo_sha256s: Mapped[list | None] = mapped_column(JSON)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    released_by: Mapped[User | None] = relationship(foreign_keys=[released_by_id])


class Takeback(Base):
    """A product taken away for repair against a signed receipt, and its return."""

    __tablename__ = "takebacks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the receipt id
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    items: Mapped[list] = mapped_column(JSON)
    condition: Mapped[str] = mapped_column(Text)
    receipt_signature_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    status: Mapped[str] = mapped_column(String(16), default="out", index=True)
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_signature_sha256: Mapped[str | None] = mapped_column(ForeignKey("blobs.sha256"))
    # Issue 8: the number printed for the customer (made offline on the phone: job ref + a
    # per-job counter), the condition photos, who signed, the follow-up job that brings the
    # product back (made once, when the receipt reaches the server), and the return's facts.
    receipt_no: Mapped[str | None] = mapped_column(String(48), unique=True)
    photo_sha256s: Mapped[list | None] = mapped_column(JSON)
    signer_name: Mapped[str | None] = mapped_column(String(120))
    followup_job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    returned_on_job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"))
    receipt_retrieved: Mapped[bool | None] = mapped_column(Boolean)
    return_signer_name: Mapped[str | None] = mapped_column(String(120))
    return_note: Mapped[str | None] = mapped_column(Text)

    job: Mapped[Job] = relationship(foreign_keys=[job_id])
    followup_job: Mapped[Job | None] = relationship(foreign_keys=[followup_job_id])
    taken_by: Mapped[User] = relationship(foreign_keys=[taken_by_id])
    returned_by: Mapped[User | None] = relationship(foreign_keys=[returned_by_id])


class JobEvent(Base):
    """The job's audit trail: append-only (see the guard below)."""

    __tablename__ = "job_events"
    __table_args__ = (Index("ix_events_job", "job_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"))
    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    server_at: Mapped[datetime] = mapped_column(UTCDateTime)
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Issue 16: when it happened (corrected device time; the server's for office changes).
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship()


class AuditTrailIsAppendOnly(Exception):
    pass


@event.listens_for(JobEvent, "before_update")
@event.listens_for(JobEvent, "before_delete")
def _refuse_event_change(mapper, connection, target):
    raise AuditTrailIsAppendOnly("job events are never changed or deleted")


# --- sync bookkeeping --------------------------------------------------------------------

class MutationRecord(Base):
    """Every mutation a device pushed and what became of it. (device_id, seq) answers replays
    with the stored result; the unique mutation_id stops a mutation re-sent under a new device
    registration from being applied twice."""

    __tablename__ = "mutations"
    __table_args__ = (UniqueConstraint("device_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    mutation_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict | None] = mapped_column(JSON)
    device_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Counter(Base):
    """Named counters bumped inside the writing transaction (`UPDATE ... RETURNING`). The row
    lock orders commits, so a reader that sees value N also sees every change below N."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)


# --- the dispatcher's desk: complaints and settings ----------------------------------------

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


class ComplaintContact(Base):
    """Each call with the complainant, and whether they said they were satisfied."""

    __tablename__ = "complaint_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    by: Mapped[User] = relationship()


class ComplaintJob(Base):
    """A job spawned from a complaint (a return visit to put things right), linked both ways."""

    __tablename__ = "complaint_jobs"
    __table_args__ = (UniqueConstraint("complaint_id", "job_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"))
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplaintEvent(Base):
    """The complaint's audit trail: append-only, like JobEvent."""

    __tablename__ = "complaint_events"
    __table_args__ = (Index("ix_complaint_events", "complaint_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"))
    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(36))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    server_at: Mapped[datetime] = mapped_column(UTCDateTime)

    actor: Mapped[User | None] = relationship()


@event.listens_for(ComplaintEvent, "before_update")
@event.listens_for(ComplaintEvent, "before_delete")
def _refuse_complaint_event_change(mapper, connection, target):
    raise AuditTrailIsAppendOnly("complaint events are never changed or deleted")


class SettingChange(Base):
    """Who changed a setting, when, from what to what (append-only)."""

    __tablename__ = "setting_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    old: Mapped[object | None] = mapped_column(JSON)
    new: Mapped[object] = mapped_column(JSON)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


@event.listens_for(SettingChange, "before_update")
@event.listens_for(SettingChange, "before_delete")
def _refuse_setting_change_change(mapper, connection, target):
    raise AuditTrailIsAppendOnly("setting changes are never changed or deleted")


# --- return visits (回访) and the customer survey --------------------------------------------

class ReturnVisit(Base):
    """The after-sales call (回访) some days after a job was approved: one per job (the unique
    `job_id` stops a second one, even from two processes at once). Answered once, by the office
    on the phone (`channel` phone) or by the customer on /survey/<token> (`channel` survey).
    The survey token is stored only as its SHA-256; a low score or an open issue links the
    complaint or follow-up job it opened (fieldapp/services/return_visits.py)."""

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


# --- sign-off: the seal chain --------------------------------------------------------------

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


# --- notifications, their outbox and the scheduler (issue 7) -------------------------------

class Notification(Base):
    """One in-app message to one user. `key` names the event; (user_id, key) is unique, so
    the same event never notifies the same person twice, even from two processes at once
    (fieldapp/services/notifications.py). Text is rendered in the recipient's language."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_notifications_user_key"),
                      Index("ix_notifications_user_created", "user_id", "created_at", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    complaint_id: Mapped[str | None] = mapped_column(ForeignKey("complaints.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Delivery(Base):
    """The outbox: one message to send over one channel (`email` or `webhook`), once.
    `key` is unique (a second enqueue of the same message is a no-op). A worker claims a row
    (pending -> sending, atomically), sends, then marks it `sent` / `logged` (no mail server
    configured) or puts it back to `pending` with a later `next_attempt_at`; after
    MAX_ATTEMPTS it is `failed`, shown on /dispatch/deliveries with its last error."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(240), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


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

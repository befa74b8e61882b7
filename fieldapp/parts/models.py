"""Parts requests and take-backs (docs/parts.md)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.accounts.models import User
from fieldapp.jobs.models import Job
from fieldapp.orm import Base, UTCDateTime


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

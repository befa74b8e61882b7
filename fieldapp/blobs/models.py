"""Content-addressed blobs (photos, signatures) and their resumable uploads."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.orm import Base, UTCDateTime


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

"""Content-addressed storage for photos and signatures.

Bytes are hashed as they arrive, checked against the address, checked to be a JPEG, PNG or
WebP by their own bytes (and decoded by Pillow, which refuses decompression bombs), and only
then published: moved into place with an atomic rename, fsynced with its directory (a
half-written file is never served, and a power cut loses no blob that was acknowledged), or
put to an S3-compatible object store in one request (`sync/objectstore.py`). The same bytes
are stored once however often they are uploaded or referenced.

`BlobStore` is the small interface both stores implement.
"""
from __future__ import annotations

import abc
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from PIL import Image

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 64 * 1024
DEFAULT_MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 64_000_000  # a 48 MP phone photo fits; a decompression bomb does not

CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")


class BlobError(Exception):
    code = "blob_error"
    status = 400

    def __init__(self, details: dict | None = None):
        super().__init__(self.code)
        self.details = details or {}


class HashMismatch(BlobError):
    code, status = "hash_mismatch", 422


class TooLarge(BlobError):
    code, status = "too_large", 413


class NotAnImage(BlobError):
    code, status = "unsupported_media_type", 415


class BadAddress(BlobError):
    code, status = "bad_sha256", 400


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    content_type: str
    width: int | None
    height: int | None
    created: bool  # False when the same bytes were already held


def sniff_type(head: bytes) -> str | None:
    """The image type by its magic bytes (never the Content-Type header)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def inspect_image(path: str, content_type: str) -> tuple[int, int]:
    """Decode the image to its last byte, cheaply, and refuse bombs: the header alone would
    let the first half of a JPEG through as evidence.

    The size is checked from the header before any pixel is decoded. A JPEG is then decoded
    at 1/8 scale (`draft`: libjpeg still reads every byte, so truncation shows, for an
    eighth of the memory); PNG and WebP are decoded whole, within MAX_PIXELS."""
    expected = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}[content_type]
    try:
        with Image.open(path) as image:
            if image.format != expected:
                raise NotAnImage({"reason": "format_mismatch", "found": image.format})
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise NotAnImage({"reason": "too_many_pixels", "width": width,
                                  "height": height, "max_pixels": MAX_PIXELS})
            image.verify()  # chunk checksums (PNG); verify leaves the image unusable
        with Image.open(path) as image:
            if expected == "JPEG":
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()
    except NotAnImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as bomb:
        raise NotAnImage({"reason": "decompression_bomb", "message": str(bomb)}) from None
    except Exception as broken:  # truncated or corrupt data in an image's clothing
        raise NotAnImage({"reason": "undecodable", "message": str(broken)[:200]}) from None
    return width, height


class BlobStore(Protocol):
    def exists(self, sha256: str) -> bool: ...
    def open(self, sha256: str) -> BinaryIO: ...
    def ingest(self, stream: BinaryIO, sha256: str, max_bytes: int) -> StoredBlob: ...
    def delete(self, sha256: str) -> None: ...


@dataclass
class Received:
    """An upload spooled to a local file and checked: its bytes hash to their address, are a
    JPEG, PNG or WebP by their own bytes and decode. Only now may a store publish it."""
    path: str
    sha256: str
    size: int
    md5: bytes  # for the object store's own integrity check of what it received
    content_type: str
    width: int
    height: int

    def stored(self, created: bool) -> StoredBlob:
        return StoredBlob(self.sha256, self.size, self.content_type, self.width, self.height,
                          created)


@contextmanager
def receive(stream: BinaryIO, sha256: str, max_bytes: int, incoming: str
            ) -> Iterator[Received]:
    """Stream the body into a temporary file in `incoming` (CHUNK bytes in memory at a time),
    hashing as it comes; refuse it (TooLarge, HashMismatch, NotAnImage) before anything is
    published. The file is removed on the way out unless the caller moved it away."""
    digest = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    head = b""
    fd, tmp = tempfile.mkstemp(dir=incoming, prefix="up-")
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge({"max_bytes": max_bytes})
                if len(head) < 16:
                    head = (head + chunk)[:16]
                digest.update(chunk)
                md5.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != sha256:
            raise HashMismatch({"expected": sha256, "actual": actual, "size": size})
        content_type = sniff_type(head)
        if content_type is None:
            raise NotAnImage({"reason": "not_jpeg_png_webp", "allowed": CONTENT_TYPES})
        width, height = inspect_image(tmp, content_type)
        yield Received(tmp, sha256, size, md5.digest(), content_type, width, height)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def fsync_dir(path: str) -> None:
    """Make a directory's entries durable: after a rename the file's bytes are on disk (the
    file was fsynced), but its name is only in the directory, which a power cut may lose."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sweep_stale(incoming: str, older_than: float) -> int:
    """Remove temporary files an upload left behind when its process was killed (a live
    upload keeps touching its file, so only ones untouched since `older_than`, a POSIX
    timestamp, go). Answers how many were removed."""
    removed = 0
    for entry in os.scandir(incoming):
        try:
            if entry.is_file() and entry.stat().st_mtime < older_than:
                os.remove(entry.path)
                removed += 1
        except FileNotFoundError:  # finished or swept by another process meanwhile
            pass
    return removed


def check_address(sha256: str) -> str:
    if not SHA256_RE.match(sha256 or ""):
        raise BadAddress({"sha256": sha256})
    return sha256


class ReceivingStore(abc.ABC):
    """What both stores share: an upload is received into the local folder `incoming` and
    checked there (`receive`), and only then published by the store itself (`_publish`)."""

    incoming: str

    @abc.abstractmethod
    def exists(self, sha256: str) -> bool:
        """Whether the store holds these bytes (each store looks in its own place)."""

    @abc.abstractmethod
    def _publish(self, got: Received) -> None:
        """Make checked bytes visible under their address (a rename, or one PUT)."""

    def sweep_incoming(self, older_than: float) -> int:
        return sweep_stale(self.incoming, older_than)

    def ingest(self, stream: BinaryIO, sha256: str, max_bytes: int = DEFAULT_MAX_BYTES
               ) -> StoredBlob:
        check_address(sha256)
        with receive(stream, sha256, max_bytes, self.incoming) as got:
            if self.exists(sha256):
                return got.stored(created=False)
            self._publish(got)
            return got.stored(created=True)


class LocalBlobStore(ReceivingStore):
    """Blobs as files under `root/ab/cdef...`; temporary files in `root/.incoming`."""

    def __init__(self, root: str):
        self.root = root
        self.incoming = os.path.join(root, ".incoming")
        os.makedirs(self.incoming, exist_ok=True)

    def path(self, sha256: str) -> str:
        check_address(sha256)
        return os.path.join(self.root, sha256[:2], sha256[2:])

    def exists(self, sha256: str) -> bool:
        return os.path.exists(self.path(sha256))

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def delete(self, sha256: str) -> None:
        try:
            os.remove(self.path(sha256))
        except FileNotFoundError:
            pass

    def _publish(self, got: Received) -> None:
        final = self.path(got.sha256)
        folder = os.path.dirname(final)
        if not os.path.isdir(folder):
            os.makedirs(folder, exist_ok=True)
            fsync_dir(self.root)  # the new ab/ folder's name, too, must survive a power cut
        os.replace(got.path, final)  # atomic: readers see no file or the whole file
        fsync_dir(folder)  # and the rename itself survives a power cut, not only SIGKILL

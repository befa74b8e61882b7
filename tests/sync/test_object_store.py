"""The blob store on an S3-compatible server (a real moto server, tests/support/services.py)
and the file store's durability: what tests/sync/test_blobs.py (which runs on both) does
not show by the API's answers alone."""
from __future__ import annotations

import io
import os
import random

import pytest
from PIL import Image
from sqlalchemy import text

from fieldapp import create_app
from fieldapp.documents.service_report import image_for_pdf
from fieldapp.extensions import db
from sync.blobs import HashMismatch, LocalBlobStore
from sync.objectstore import BadStoreUrl, S3BlobStore
from tests.support.helpers import app_config
from tests.support.services import S3_BUCKET, s3_store_url
from tests.support.synckit import Phone, blob_files, jpeg_bytes, sha, stored_files


def noise_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3)
                    ).save(out, "PNG")
    return out.getvalue()


class Watched(io.BytesIO):
    """An upload body that, at every read, asks the store whether the blob shows yet."""

    def __init__(self, data: bytes, store, sha256: str):
        super().__init__(data)
        self.store, self.sha256, self.seen = store, sha256, []

    def read(self, size=-1):
        self.seen.append(self.store.exists(self.sha256))
        return super().read(size)


@pytest.fixture
def s3_store(s3_endpoint, tmp_path):
    return S3BlobStore.from_url(s3_store_url(s3_endpoint), str(tmp_path / "incoming"))


def test_nothing_shows_in_the_bucket_before_the_bytes_are_checked(s3_store):
    data = noise_png(300)  # some CHUNKs long
    body = Watched(data, s3_store, sha(data))
    stored = s3_store.ingest(body, sha(data))
    assert stored.created and stored.size == len(data)
    assert len(body.seen) > 2 and not any(body.seen)  # never while the bytes streamed in
    assert s3_store.names() == [f"{sha(data)[:2]}/{sha(data)[2:]}"]
    with s3_store.open(sha(data)) as handle:
        assert handle.read() == data
    assert s3_store.ingest(io.BytesIO(data), sha(data)).created is False

    # A wrong body under another address: refused, nothing put, nothing left locally.
    other = jpeg_bytes(2)
    with pytest.raises(HashMismatch):
        s3_store.ingest(io.BytesIO(data), sha(other))
    assert not s3_store.exists(sha(other))
    assert stored_files(s3_store) == [f"{sha(data)[:2]}/{sha(data)[2:]}"]


def test_a_missing_object_reads_like_a_missing_file(s3_store):
    digest = sha(b"never uploaded")
    assert not s3_store.exists(digest)
    with pytest.raises(FileNotFoundError):
        s3_store.open(digest)
    s3_store.delete(digest)  # deleting what is gone is no error (retention runs twice)
    assert image_for_pdf(s3_store, digest, 100) is None


def test_photos_live_in_the_bucket_and_a_second_app_server_serves_them(
        db_url, tmp_path, clock, demo, s3_endpoint):
    url = s3_store_url(s3_endpoint)
    first = create_app(app_config(db_url, str(tmp_path / "one"), clock, BLOB_STORE_URL=url))
    second = create_app(app_config(db_url, str(tmp_path / "two"), clock, BLOB_STORE_URL=url))
    data = jpeg_bytes(3, size=(64, 48))
    phone = Phone(first.test_client(), "tech1")
    assert phone.put_blob(data, content_type="image/jpeg").status_code == 201
    assert blob_files(str(tmp_path / "one")) == []  # nothing on the first server's disk
    store = second.extensions["fieldapp.blobs"]
    assert isinstance(store, S3BlobStore) and store.bucket == S3_BUCKET
    # The same technician asks the other server: the bytes come from the bucket.
    other = Phone(second.test_client(), "tech1", name="tablet")
    got = other.get_blob(sha(data))
    assert got.status_code == 200 and got.data == data
    assert got.headers["Content-Length"] == str(len(data))
    assert phone.put_blob(data, content_type="image/jpeg").status_code == 200
    assert image_for_pdf(store, sha(data), 32) is not None  # reports and thumbnails read it


def test_the_endpoint_may_come_from_aws_endpoint_url(s3_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    store = S3BlobStore.from_url(s3_store_url(s3_endpoint).split("?")[0], str(tmp_path))
    data = jpeg_bytes(4)
    assert store.ingest(io.BytesIO(data), sha(data)).created
    assert store.exists(sha(data))


@pytest.mark.parametrize("url, problem", [
    ("s3:///prefix", "names no bucket"),
    ("s3://bucket/p?endpiont=http://127.0.0.1:9", "unknown settings"),
    ("s3://bucket/p?addressing=sideways", "addressing must be"),
])
def test_a_wrong_store_url_stops_the_start(db_url, tmp_path, clock, url, problem):
    with pytest.raises(BadStoreUrl, match=problem):
        create_app(app_config(db_url, str(tmp_path / "b"), clock, BLOB_STORE_URL=url))


def test_an_unknown_store_kind_stops_the_start(db_url, tmp_path, clock):
    with pytest.raises(RuntimeError, match="FIELDAPP_BLOB_STORE"):
        create_app(app_config(db_url, str(tmp_path / "b"), clock,
                              BLOB_STORE_URL="ftp://example/blobs"))


def test_the_file_store_makes_the_rename_durable(tmp_path, monkeypatch):
    """A power cut after the answer loses no blob: the file is fsynced before its rename,
    and the folder that holds the new name after it (and the root when ab/ is new)."""
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        calls.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src, dst):
        calls.append(("replace", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    root = str(tmp_path / "blobs")
    store = LocalBlobStore(root)
    data = jpeg_bytes(5)
    digest = sha(data)
    store.ingest(io.BytesIO(data), digest)
    final = os.path.join(root, digest[:2], digest[2:])
    where = [c for c in calls if c[0] == "replace"]
    assert where == [("replace", final)]
    at = calls.index(where[0])
    before = calls[:at]
    assert any(path.startswith(store.incoming) for _, path in before)  # the bytes
    assert ("fsync", root) in before  # the new ab/ folder's entry
    assert calls[at + 1:] == [("fsync", os.path.dirname(final))]


def test_sqlite_commits_survive_a_power_cut_by_default(tmp_path, clock):
    """WAL with synchronous=FULL (fieldapp/db.py says what each setting promises); an
    unknown setting stops the start."""
    url = f"sqlite:///{tmp_path / 'power.db'}"
    settings = app_config(url, str(tmp_path / "b"), clock)
    del settings["SQLITE_SYNCHRONOUS"]  # the tests' own choice; here the app's default
    app = create_app(settings)
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        db.engine.dispose()
    with pytest.raises(RuntimeError, match="FIELDAPP_SQLITE_SYNCHRONOUS"):
        create_app(app_config(url, str(tmp_path / "b"), clock, SQLITE_SYNCHRONOUS="OFF"))

"""PUT/HEAD/GET /api/v1/blobs/<sha256>: content-addressed, checked on the bytes, stored
atomically, readable only by who may see a job that uses it. Every test runs on the file
store and on a real S3-compatible server (tests/support/services.py)."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.support.services import both_blob_stores
from tests.support.synckit import (
    Phone,
    job_of_type,
    jpeg_bytes,
    png_bytes,
    sha,
    statuses,
    stored_files,
)

pytestmark = both_blob_stores()


@pytest.fixture
def root(app):
    """The app's blob store (files or S3)."""
    return app.extensions["fieldapp.blobs"]


def blob_rows(app) -> int:
    from fieldapp.extensions import db
    from fieldapp.models import Blob

    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(Blob)).scalar()
        db.session.remove()
    return n


def stored_path(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:]}"


def assert_nothing_stored(app, phone, root, sha256):
    assert phone.head_blob(sha256).status_code == 404
    assert stored_files(root) == []  # nothing in place, nothing left in .incoming
    assert blob_rows(app) == 0


def test_put_new_then_same_again(app, tech1, root):
    data = jpeg_bytes(1)
    first = tech1.put_blob(data, content_type="image/jpeg")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["sha256"] == sha(data)
    assert first.get_json()["size"] == len(data)
    assert first.get_json()["content_type"] == "image/jpeg"
    again = tech1.put_blob(data, content_type="image/jpeg")
    assert again.status_code == 200
    assert again.get_json()["sha256"] == sha(data)
    head = tech1.head_blob(sha(data))
    assert head.status_code == 200
    assert int(head.headers["Content-Length"]) == len(data)
    assert stored_files(root) == [stored_path(sha(data))]
    assert blob_rows(app) == 1
    got = tech1.get_blob(sha(data))  # the uploader may read it back
    assert got.status_code == 200 and got.data == data


def test_every_accepted_type_is_sniffed_from_the_bytes(app, tech1):
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(out, "WEBP")
    for data, kind in ((png_bytes(3), "image/png"), (jpeg_bytes(3), "image/jpeg"),
                       (out.getvalue(), "image/webp")):
        # The header claims PNG every time: the type comes from the bytes.
        response = tech1.put_blob(data, content_type="image/png")
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["content_type"] == kind


def test_wrong_hash_is_refused_and_nothing_stored(app, tech1, root):
    data = png_bytes(2)
    wrong = sha(b"something else")
    response = tech1.put_blob(data, sha256=wrong)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "hash_mismatch"
    assert body["details"]["actual"] == sha(data)
    assert_nothing_stored(app, tech1, root, wrong)
    assert tech1.head_blob(sha(data)).status_code == 404


def test_a_flipped_byte_is_refused_then_the_good_upload_succeeds(app, tech1, root):
    data = jpeg_bytes(4)
    flipped = bytearray(data)
    flipped[len(flipped) // 2] ^= 0xFF
    response = tech1.put_blob(bytes(flipped), sha256=sha(data), content_type="image/jpeg")
    assert response.status_code == 422 and response.get_json()["error"] == "hash_mismatch"
    assert_nothing_stored(app, tech1, root, sha(data))
    assert tech1.put_blob(data, content_type="image/jpeg").status_code == 201


@pytest.mark.parametrize("data", [
    "购物清单：牛奶、面包\n".encode() * 20,                      # a text file
    b"GIF89a" + b"\x00" * 64,                                     # an image, not of ours
    b"\x89PNG\r\n\x1a\n" + b"not really a png" * 8,               # PNG magic, broken body
    b"%PDF-1.4\n" + b"\x00" * 64,
], ids=["text", "gif", "png-magic-only", "pdf"])
def test_not_an_accepted_image_is_415(app, tech1, root, data):
    response = tech1.put_blob(data, content_type="image/png")
    assert response.status_code == 415, response.get_json()
    assert response.get_json()["error"] == "unsupported_media_type"
    assert_nothing_stored(app, tech1, root, sha(data))


def test_too_large_is_413_and_nothing_stored(app, tech1, root):
    data = jpeg_bytes(5, size=(64, 64))
    app.config["BLOB_MAX_BYTES"] = len(data) - 1
    response = tech1.put_blob(data, content_type="image/jpeg")
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert_nothing_stored(app, tech1, root, sha(data))

    # Sent without a Content-Length (chunked): the limit holds while streaming.
    response = tech1.client.put(
        f"/api/v1/blobs/{sha(data)}", input_stream=io.BytesIO(data),
        headers={**tech1.headers, "Content-Type": "image/jpeg",
                 "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413, response.get_json()
    assert_nothing_stored(app, tech1, root, sha(data))

    app.config["BLOB_MAX_BYTES"] = len(data)
    assert tech1.put_blob(data, content_type="image/jpeg").status_code == 201


class HalfThenEOF(io.BytesIO):
    """A client that disconnects: the request announces the whole file (the test client
    takes Content-Length from the stream's size) but only half the bytes ever arrive."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.cut = len(data) // 2

    def _cut_off(self):
        return b""

    def read(self, size=-1):
        left = self.cut - self.tell()
        if left <= 0:
            return self._cut_off()
        return super().read(left if size is None or size < 0 else min(size, left))

    def readinto(self, buffer):
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class HalfThenError(HalfThenEOF):
    """A connection reset: half the bytes, then the read fails."""

    def _cut_off(self):
        raise ConnectionResetError("connection reset by peer")


def test_upload_cut_off_midway_leaves_nothing_then_retry_succeeds(app, tech1, root):
    data = jpeg_bytes(6, size=(96, 96))
    url = f"/api/v1/blobs/{sha(data)}"
    headers = {**tech1.headers, "Content-Type": "image/jpeg"}

    # The body ends early although Content-Length promised the whole file.
    response = tech1.client.put(url, input_stream=HalfThenEOF(data),
                                headers=headers)
    assert response.status_code == 400, response.get_json()
    assert_nothing_stored(app, tech1, root, sha(data))

    # The connection breaks mid-read (Werkzeug reports it as a client disconnect).
    response = tech1.client.put(url, input_stream=HalfThenError(data), headers=headers)
    assert response.status_code == 400, response.get_json()
    assert_nothing_stored(app, tech1, root, sha(data))

    # A shorter body under the full file's hash.
    response = tech1.put_blob(data[: len(data) // 2], sha256=sha(data),
                              content_type="image/jpeg")
    assert response.status_code == 422 and response.get_json()["error"] == "hash_mismatch"
    assert_nothing_stored(app, tech1, root, sha(data))

    retry = tech1.put_blob(data, content_type="image/jpeg")
    assert retry.status_code == 201
    assert tech1.head_blob(sha(data)).status_code == 200
    assert tech1.get_blob(sha(data)).data == data
    assert stored_files(root) == [stored_path(sha(data))]


def test_get_only_for_who_may_see_a_job_using_it(app, api, client, tech1):
    job = job_of_type(tech1, "repair")
    data = jpeg_bytes(8)
    digest = tech1.upload(data, "image/jpeg")
    answer = tech1.push([tech1.photo(job["id"], digest, item_key="damage_photo")])
    assert statuses(answer) == {1: "applied"}

    tech2 = Phone(client, "tech2")
    denied = tech2.get_blob(digest)
    assert denied.status_code == 404
    assert denied.get_json()["error"] == "not_found"
    assert denied.data != data
    assert tech2.get_blob(sha(b"nothing")).status_code == 404
    assert tech1.get_blob(digest).data == data
    for office in ("dispatcher1", "supervisor1"):
        response = api.get(f"/api/v1/blobs/{digest}", as_=office)
        assert response.status_code == 200 and response.data == data
    # Another phone of tech1 (not the uploader's device) reads it through the job.
    assert Phone(client, "tech1", name="tablet").get_blob(digest).data == data
    # Without a token: nothing.
    assert client.get(f"/api/v1/blobs/{digest}").status_code == 401


def test_job_reassigned_away_takes_its_photos_with_it(app, api, demo, client):
    tech2 = Phone(client, "tech2")
    job = job_of_type(tech2, "repair")
    digest = tech2.upload(jpeg_bytes(9), "image/jpeg")
    tech2.push([tech2.photo(job["id"], digest)])
    tech1 = Phone(client, "tech1")
    assert tech1.get_blob(digest).status_code == 404
    api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1",
              json={"technician_id": demo["tech1"]})
    assert tech1.get_blob(digest).status_code == 200


def test_same_bytes_as_two_photos_are_stored_once(app, api, tech1, root):
    job = job_of_type(tech1, "delivery")
    data = jpeg_bytes(10)
    digest = tech1.upload(data, "image/jpeg")
    assert tech1.put_blob(data, content_type="image/jpeg").status_code == 200
    answer = tech1.push([tech1.photo(job["id"], digest, item_key="goods_in_place_photo"),
                         tech1.photo(job["id"], digest, item_key="site_clean_photo")])
    assert statuses(answer) == {1: "applied", 2: "applied"}
    detail = api.get(f"/api/v1/jobs/{job['id']}", as_="dispatcher1").get_json()
    assert [p["sha256"] for p in detail["photos"]] == [digest, digest]
    assert len({p["id"] for p in detail["photos"]}) == 2
    assert stored_files(root) == [stored_path(digest)]
    assert blob_rows(app) == 1


def test_bad_address_is_400(app, tech1):
    response = tech1.put_blob(png_bytes(1), sha256="ABC" + "0" * 61)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_sha256"
    assert tech1.head_blob("not-a-hash").status_code == 404

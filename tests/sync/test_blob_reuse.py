"""Issue 14: a blob's hash is no key. A technician attaches (and so reads) only bytes they
uploaded themselves or that a job of theirs already uses; a blob not uploaded yet still answers
`retry`. And an image is decoded to its last byte before it is accepted."""
from __future__ import annotations

import pytest

from tests.support.helpers import jpeg_bytes, new_uuid, png_bytes, sha
from tests.support.services import both_blob_stores
from tests.support.synckit import Phone, job_of_type, statuses, stored_files


@pytest.fixture
def tech2(client, demo):
    return Phone(client, "tech2")


@pytest.fixture
def tech2_photo(tech2):
    """A photo on one of tech2's jobs: its hash is what tech1 learned somehow."""
    data = jpeg_bytes(77)
    digest = tech2.upload(data, "image/jpeg")
    job = job_of_type(tech2, "delivery")
    assert set(statuses(tech2.push([tech2.photo(job["id"], digest)])).values()) == {"applied"}
    return data, digest


@pytest.fixture
def tech2_signature(tech2):
    data = png_bytes(77)
    digest = tech2.upload(data)
    job = job_of_type(tech2, "delivery")
    assert set(statuses(tech2.push([tech2.signature(job["id"], digest)])).values()) == {
        "applied"}
    return data, digest


def every_way_to_name(phone: Phone, job_id: str, photo: str, signature: str) -> list[dict]:
    """Each mutation arg that names a blob, naming someone else's."""
    return [
        phone.photo(job_id, photo),
        phone.signature(job_id, signature),
        phone.mutation("parts.request", job_id, {
            "request_id": new_uuid(), "part_name": "hinge", "quantity": 1,
            "kind": "replacement", "reason": "broken", "photo_sha256s": [photo]}),
        phone.mutation("takeback.receipt", job_id, {
            "receipt_id": new_uuid(), "items": ["sofa"], "condition": "scratched",
            "signature_sha256": signature}),
        phone.mutation("takeback.receipt", job_id, {
            "receipt_id": new_uuid(), "items": ["sofa"], "condition": "scratched",
            "signature_sha256": phone.upload(png_bytes(5)), "photo_sha256s": [photo]}),
    ]


def test_another_jobs_blob_cannot_be_attached_or_read(app, api, tech1, tech2_photo,
                                                      tech2_signature):
    photo_data, photo = tech2_photo
    _, signature = tech2_signature
    job = job_of_type(tech1, "repair")
    tech1.push([tech1.status(job["id"], s) for s in ("en_route", "on_site", "in_progress")])
    batch = every_way_to_name(tech1, job["id"], photo, signature)
    batch.append(tech1.note(job["id"], "still moving"))
    answer = tech1.push(batch)
    results = answer["results"]
    assert [r["status"] for r in results] == ["rejected"] * 5 + ["applied"], results
    assert {r["reason"] for r in results[:5]} == {"blob_not_yours"}
    assert answer["last_seq"] == batch[-1]["seq"]
    assert tech1.get_blob(photo).status_code == 404
    detail = api.get(f"/api/v1/jobs/{job['id']}", as_="dispatcher1").get_json()
    assert detail["photos"] == [] and detail["signatures"] == []
    assert detail["parts_requests"] == [] and detail["takebacks"] == []


def test_a_receipt_returned_with_someone_elses_signature_is_refused(tech1, tech2_signature):
    _, signature = tech2_signature
    job = job_of_type(tech1, "repair")
    receipt_id = new_uuid()
    batch = [tech1.status(job["id"], s) for s in ("en_route", "on_site", "in_progress")]
    batch.append(tech1.mutation("takeback.receipt", job["id"], {
        "receipt_id": receipt_id, "items": ["sofa"], "condition": "scratched",
        "signature_sha256": tech1.upload(png_bytes(6))}))
    assert set(statuses(tech1.push(batch)).values()) == {"applied"}
    returned = tech1.mutation("takeback.return", job["id"], {
        "receipt_id": receipt_id, "signature_sha256": signature})
    result = tech1.push([returned])["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", "blob_not_yours")


def test_uploading_the_same_bytes_makes_them_yours(tech1, tech2_photo):
    """Who sends the bytes holds them: the upload answers 200 (already held) and records
    them as an uploader, and the attach that follows applies."""
    data, photo = tech2_photo
    job = job_of_type(tech1, "repair")
    assert tech1.head_blob(photo).status_code == 404
    assert tech1.put_blob(data, content_type="image/jpeg").status_code == 200
    assert statuses(tech1.push([tech1.photo(job["id"], photo)])) == {1: "applied"}
    assert tech1.get_blob(photo).data == data


def test_a_blob_not_uploaded_yet_still_answers_retry(tech1):
    job = job_of_type(tech1, "repair")
    missing = sha(jpeg_bytes(4040))
    result = tech1.push([tech1.photo(job["id"], missing)])["results"][0]
    assert (result["status"], result["reason"]) == ("retry", "blob_missing")


def test_a_blob_a_job_of_yours_uses_may_be_attached_again(api, demo, client, tech2):
    """Reassigned to tech1, tech2's job's photo is tech1's to see, and to attach elsewhere."""
    digest = tech2.upload(jpeg_bytes(31), "image/jpeg")
    job = job_of_type(tech2, "repair")
    tech2.push([tech2.photo(job["id"], digest)])
    api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1",
              json={"technician_id": demo["tech1"]})
    tech1 = Phone(client, "tech1")
    other = job_of_type(tech1, "delivery")
    assert statuses(tech1.push([tech1.photo(other["id"], digest)])) == {1: "applied"}


def test_a_late_mutation_naming_another_jobs_blob_is_no_conflict(api, demo, tech1,
                                                                 tech2_photo):
    """The conflict path keeps evidence for the office; it keeps nobody else's."""
    _, photo = tech2_photo
    job = job_of_type(tech1, "repair")
    api.patch(f"/api/v1/jobs/{job['id']}", as_="dispatcher1",
              json={"technician_id": demo["tech2"]})
    result = tech1.push([tech1.photo(job["id"], photo)])["results"][0]
    assert (result["status"], result["reason"]) == ("rejected", "blob_not_yours")


@both_blob_stores()
@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_truncated_jpeg_is_415_and_nothing_stored(app, tech1, cut):
    data = jpeg_bytes(3, size=(320, 240))
    part = data[:int(len(data) * cut)]
    response = tech1.put_blob(part, content_type="image/jpeg")
    assert response.status_code == 415, response.get_json()
    assert response.get_json()["error"] == "unsupported_media_type"
    assert tech1.head_blob(sha(part)).status_code == 404
    assert stored_files(app.extensions["fieldapp.blobs"]) == []  # on files or in the bucket
    assert tech1.put_blob(data, content_type="image/jpeg").status_code == 201


def test_a_truncated_png_and_webp_are_415(tech1):
    import io

    from PIL import Image

    image = Image.effect_noise((200, 150), 40).convert("RGB")
    for fmt, content_type in (("PNG", "image/png"), ("WEBP", "image/webp")):
        out = io.BytesIO()
        image.save(out, fmt)
        data = out.getvalue()
        cut = tech1.put_blob(data[:len(data) // 2], content_type=content_type)
        assert cut.status_code == 415, (fmt, cut.get_json())
        assert tech1.put_blob(data, content_type=content_type).status_code == 201

"""Hostile uploads, security headers on every face, token revocation, and customer contact
data kept from technicians once a job is approved."""
from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image

from tests.support.helpers import complete_job, intake_body, jpeg_bytes, png_bytes, sha, upload_blob
from tests.support.web_kit import signed_in_client

# --- uploads that lie ------------------------------------------------------------------------


def _put(api, user, data, content_type):
    return api.put(f"/api/v1/blobs/{sha(data)}", as_=user, data=data, content_type=content_type)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny file whose header claims `width` x `height` pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))


def bomb_png() -> bytes:
    """A real, valid PNG of 9000 x 9000 one-bit pixels: ~10 kB on the wire, 81 megapixels
    (more than the store's 64 MP limit) once decoded."""
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG with its SOF frame size rewritten to `width` x `height`."""
    data = bytearray(jpeg_bytes(3))
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize("data,reasons", [
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', {"not_jpeg_png_webp"}),
    (b"<!doctype html><script>alert(document.cookie)</script>", {"not_jpeg_png_webp"}),
    (b"\xff\xd8\xff<html><script>alert(1)</script></html>", {"undecodable"}),
    (png_claiming(60000, 60000), {"decompression_bomb", "too_many_pixels", "undecodable"}),
    (png_claiming(1, 200_000_000), {"decompression_bomb", "too_many_pixels", "undecodable"}),
    (jpeg_claiming(65000, 65000), {"decompression_bomb", "too_many_pixels", "undecodable"}),
], ids=["svg-as-png", "html-as-png", "html-with-jpeg-magic", "png-60000x60000",
        "png-1x200M", "jpeg-65000x65000"])
def test_lying_or_enormous_uploads_are_refused(api, demo, app, data, reasons):
    response = _put(api, "tech1", data, "image/png")
    assert response.status_code == 415, response.get_json()
    body = response.get_json()
    assert body["error"] == "unsupported_media_type"
    assert body["details"]["reason"] in reasons, body
    assert api.call("HEAD", f"/api/v1/blobs/{sha(data)}", "tech1").status_code == 404


def test_decompression_bomb_is_refused(api, demo):
    data = bomb_png()
    assert len(data) < 64 * 1024
    response = _put(api, "tech1", data, "image/png")
    assert response.status_code == 415, response.get_json()
    assert response.get_json()["details"]["reason"] in ("too_many_pixels", "decompression_bomb")


def test_type_comes_from_the_bytes_not_the_header(api, demo):
    """A JPEG announced as PNG (or as text/html) is stored and served as what it is, with
    nosniff, so a browser never renders it as anything else."""
    for n, claimed in enumerate(("image/png", "text/html", "application/octet-stream")):
        data = jpeg_bytes(600 + n)
        response = _put(api, "tech1", data, claimed)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["content_type"] == "image/jpeg"
        served = api.get(f"/api/v1/blobs/{sha(data)}", as_="dispatcher1")
        assert served.status_code == 200
        assert served.headers["Content-Type"] == "image/jpeg"
        assert served.headers["X-Content-Type-Options"] == "nosniff"


# --- headers on every face -------------------------------------------------------------------

def _csp(response) -> dict:
    out = {}
    for directive in response.headers.get("Content-Security-Policy", "").split(";"):
        parts = directive.split()
        if parts:
            out[parts[0]] = parts[1:]
    return out


def _assert_headers(response, where):
    csp = _csp(response)
    script = csp.get("script-src", csp.get("default-src"))
    assert script, f"{where}: no script-src in the CSP"
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "data:"} & set(script), where
    assert csp.get("frame-ancestors") == ["'none'"], where
    assert csp.get("object-src") == ["'none'"], where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("X-Frame-Options") == "DENY", where


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


@pytest.mark.parametrize("username", ["dispatcher1", "supervisor1", "admin", "tech1", None])
def test_every_page_has_the_headers_and_no_inline_script(app, demo, username):
    """Every param-less GET page (HTML, JSON, CSV, PDF alike), as each role: CSP without
    inline script, nosniff, frame-ancestors 'none'; and no HTML page needs inline script."""
    if username is None:
        client = app.test_client()
    else:
        client, _ = signed_in_client(app, username)
    pages = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments or rule.endpoint == "static":
            continue
        response = client.get(rule.rule)
        _assert_headers(response, f"{rule.rule} as {username}")
        if response.status_code == 200 and response.content_type.startswith("text/html"):
            pages += 1
            html = response.get_data(as_text=True)
            for pattern in (INLINE_SCRIPT, INLINE_HANDLER, JAVASCRIPT_URL):
                found = pattern.search(html)
                assert not found, f"{rule.rule} as {username}: {found.group(0)[:120]}"
    assert pages > 0


def test_error_answers_carry_the_headers_too(api, client, demo):
    for response in (client.get("/nope"), client.get("/api/v1/nope"),
                     api.get("/api/v1/jobs/not-a-job", as_="tech1"),
                     client.post("/login", data={})):
        _assert_headers(response, response.request.path)


def test_session_cookie_flags(app, demo):
    client = app.test_client()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": "dispatcher1",
                                           "password": "fieldapp-demo", "csrf_token": token})
    cookies = [v for k, v in response.headers.items() if k.lower() == "set-cookie"]
    session = [c for c in cookies if c.startswith(app.config.get("SESSION_COOKIE_NAME",
                                                                 "session") + "=")]
    assert session, cookies
    flags = session[-1].lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags


# --- tokens ----------------------------------------------------------------------------------

def test_revoked_token_opens_nothing(api, demo):
    body = api.login("tech1", device="lost phone")
    token = body["token"]
    headers = {"Authorization": f"Bearer {token}"}
    digest = upload_blob(api, "tech1", png_bytes(77), "image/png")
    assert api.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    for method, path, kwargs in [
            ("GET", "/api/v1/auth/me", {}), ("GET", "/api/v1/jobs", {}),
            ("GET", "/api/v1/sync/pull", {}), ("HEAD", f"/api/v1/blobs/{digest}", {}),
            ("GET", f"/api/v1/blobs/{digest}", {}),
            ("PUT", f"/api/v1/blobs/{sha(png_bytes(78))}",
             {"data": png_bytes(78), "content_type": "image/png"}),
            ("POST", "/api/v1/sync/push", {"json": {"device_id": body["device_id"],
                                                     "mutations": []}}),
            ("POST", "/api/v1/auth/logout", {})]:
        response = api.client.open(path, method=method, headers=headers, **kwargs)
        assert response.status_code == 401, (method, path, response.status_code)


def test_deactivated_users_tokens_stop_at_once(api, app, demo):
    from fieldapp.extensions import db
    from fieldapp.models import User

    api.login("tech2")
    assert api.get("/api/v1/auth/me", as_="tech2").status_code == 200
    with app.app_context():
        db.session.get(User, demo["tech2"]).active = False
        db.session.commit()
    assert api.get("/api/v1/auth/me", as_="tech2").status_code == 401
    assert api.get("/api/v1/sync/pull", as_="tech2").status_code == 401


# --- customer contact data after approval ----------------------------------------------------

PHONE, ADDRESS = "13955550123", "上海市徐汇区漕溪北路 88 号 1201 室"


def _approved_job(api, demo):
    body = intake_body(customer={"name": "王先生", "phone": PHONE, "address": ADDRESS})
    created = api.post("/api/v1/jobs", as_="dispatcher1", json=body)
    assert created.status_code == 201, created.get_json()
    job_id = created.get_json()["id"]
    patched = api.patch(f"/api/v1/jobs/{job_id}", as_="dispatcher1", json={
        "scheduled_start": "2026-11-24T14:00:00+08:00",
        "scheduled_end": "2026-11-24T16:00:00+08:00", "technician_id": demo["tech1"]})
    assert patched.status_code == 200, patched.get_json()
    return job_id


def _everything_the_technician_reads(api, job_id) -> str:
    texts = [api.get(f"/api/v1/jobs/{job_id}", as_="tech1").get_data(as_text=True),
             api.get("/api/v1/jobs", as_="tech1").get_data(as_text=True),
             api.get("/api/v1/jobs?status=approved", as_="tech1").get_data(as_text=True)]
    cursor = ""
    while True:  # a fresh phone's full pull
        page = api.get(f"/api/v1/sync/pull?cursor={cursor}", as_="tech1")
        texts.append(page.get_data(as_text=True))
        cursor, more = page.get_json()["cursor"], page.get_json()["has_more"]
        if not more:
            break
    # every other list a technician may read (notifications, parts, take-backs ...)
    for path in ("/api/v1/notifications", "/api/v1/parts-requests", "/api/v1/takebacks"):
        response = api.get(path, as_="tech1")
        if response.status_code == 200:
            texts.append(response.get_data(as_text=True))
    return "\n".join(texts)


def _contains_contact(text: str) -> bool:
    import json

    # JSON escapes non-ASCII: look for the raw and the escaped forms
    escaped = json.dumps(ADDRESS)[1:-1]
    return PHONE in text or ADDRESS in text or escaped in text or "漕溪北路" in text


def test_contact_data_hidden_from_the_technician_once_approved(api, demo):
    job_id = _approved_job(api, demo)
    assert _contains_contact(_everything_the_technician_reads(api, job_id))  # before: needed
    complete_job(api, job_id)
    assert _contains_contact(_everything_the_technician_reads(api, job_id))  # still working
    approved = api.post(f"/api/v1/jobs/{job_id}/review", as_="supervisor1",
                        json={"decision": "approve"})
    assert approved.status_code == 200, approved.get_json()

    seen = _everything_the_technician_reads(api, job_id)
    assert not _contains_contact(seen), "the technician still gets the customer's contact data"
    job = api.get(f"/api/v1/jobs/{job_id}", as_="tech1").get_json()
    assert job["customer"]["phone"] is None and job["customer"]["address"] is None
    assert job["customer"]["name"]  # the name stays: it is on the signed report
    # the office still sees it
    office = api.get(f"/api/v1/jobs/{job_id}", as_="dispatcher1").get_json()
    assert office["customer"]["phone"] == PHONE and office["customer"]["address"] == ADDRESS


def test_phone_with_an_old_cursor_learns_the_contact_data_is_gone(api, demo):
    """A phone that pulled while the job was open gets the job again after approval, with
    the contact fields emptied (so its cached copy is overwritten)."""
    job_id = _approved_job(api, demo)
    first = api.get("/api/v1/sync/pull?limit=500", as_="tech1").get_json()
    assert any(j["id"] == job_id and j["customer"]["phone"] == PHONE
               for j in first["changes"]["jobs"])
    complete_job(api, job_id)
    cursor = api.get(f"/api/v1/sync/pull?cursor={first['cursor']}&limit=500",
                     as_="tech1").get_json()["cursor"]
    assert api.post(f"/api/v1/jobs/{job_id}/review", as_="supervisor1",
                    json={"decision": "approve"}).status_code == 200
    after = api.get(f"/api/v1/sync/pull?cursor={cursor}&limit=500", as_="tech1").get_json()
    mentioned = [j for j in after["changes"]["jobs"] if j["id"] == job_id]
    if mentioned:
        assert mentioned[0]["customer"]["phone"] is None
        assert mentioned[0]["customer"]["address"] is None
    else:  # or the job leaves the phone altogether
        assert job_id in after["removed"]["jobs"]


# --- numbers the database cannot hold ---------------------------------------------------------

HUGE = 2**70


@pytest.mark.parametrize("method,path", [
    ("GET", f"/api/v1/notifications?before_id={HUGE}"),
    ("GET", "/api/v1/notifications?before_id=2147483648"),
    ("GET", f"/api/v1/jobs?technician_id={HUGE}"),
    ("GET", f"/api/v1/jobs?offset={HUGE}"),
    ("GET", f"/api/v1/parts-requests?offset={HUGE}"),
    ("GET", f"/api/v1/takebacks?offset={HUGE}"),
    ("POST", f"/api/v1/notifications/{HUGE}/read"),
    ("POST", "/api/v1/notifications/2147483648/read"),
    ("POST", f"/api/v1/return-visits/{HUGE}/result"),
])
def test_out_of_range_numbers_are_the_callers_mistake(api, demo, method, path):
    """Found by schemathesis on PostgreSQL: ids and offsets beyond INTEGER were a 500."""
    response = api.call(method, path, "admin", json={} if method == "POST" else None)
    assert response.status_code in (400, 404, 422), (response.status_code,
                                                     response.get_data(as_text=True)[:300])
    assert set(response.get_json()) == {"error", "message", "details"}


def test_out_of_range_ids_in_web_pages_are_404(app, demo):
    client, token = signed_in_client(app, "admin")
    for path in (f"/dispatch/deliveries/{HUGE}/retry", f"/dispatch/return-visits/{HUGE}/result"):
        assert client.post(path, data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("query", ["statuss=approved", "technician=5", "status=scheduled&x=1"])
def test_job_list_refuses_unknown_filters(api, demo, query):
    """A misspelt filter answers 422 naming it, instead of silently listing everything."""
    response = api.get(f"/api/v1/jobs?{query}", as_="dispatcher1")
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["error"] == "validation_error"
    unknown = query.split("&")[-1].split("=")[0]
    assert unknown in body["details"]["fields"], body


def test_job_list_known_filters_still_work(api, demo):
    response = api.get(f"/api/v1/jobs?status=scheduled&technician_id={demo['tech1']}"
                       "&limit=5&offset=0", as_="dispatcher1")
    assert response.status_code == 200 and response.get_json()["items"]

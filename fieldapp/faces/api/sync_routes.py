"""Thin HTTP handlers over the sync engine: push, pull and the blob store."""
from flask import Response, current_app, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from fieldapp.accounts.models import User
from fieldapp.blobs.models import Blob
from fieldapp.blobstore import store
from fieldapp.db import begin_write
from fieldapp.extensions import db
from fieldapp.jobs import service as job_service
from fieldapp.web import clock, domain_ctx
from sync import engine
from sync import pull as pull_engine
from sync.blobs import SHA256_RE, TooLarge

from .errors import error_response
from .parsing import ApiBlueprint as Blueprint
from .schemas import PullQuerySchema, PullResultSchema, PushResultSchema, PushSchema

blp = Blueprint("api_sync", __name__, url_prefix="/api/v1",
                description="The offline phone's sync protocol (docs/sync-protocol.md).")


@blp.endpoint("POST", "/sync/push", answers=(200, PushResultSchema),
              errors={400: "bad_request (not a JSON object, or not UTF-8 JSON nested at most 64 "
                           "levels), bad_batch, batch_too_large, bad_seq, bad_mutation",
                      403: "device_mismatch: the token belongs to another device"})
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": PushSchema}}})
@blp.alt_response(409, description="seq_gap: details.expected_seq says where to resume")
def push():
    """Send the device's mutations; each answers applied, duplicate, rejected, conflict or
    retry."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response("bad_request", 400, {"body": "a JSON object is required"})
    if body.get("device_id") != g.api_device.id:
        return error_response("device_mismatch", 403, {"token_device_id": g.api_device.id})
    try:
        outcome = engine.push(db.session, clock(), g.api_device.id, body.get("mutations"),
                              domain_ctx().policy, sent_at=body.get("sent_at"),
                              client=body.get("client"))
    except engine.SeqGap as gap:
        return error_response("seq_gap", 409, {"expected_seq": gap.expected_seq})
    except engine.BadBatch as bad:
        return error_response(bad.code, 400, bad.details)
    return jsonify({"last_seq": outcome.last_seq, "results": outcome.results})


@blp.endpoint("GET", "/sync/pull", query=PullQuerySchema, answers=(200, PullResultSchema))
def pull(query):
    """Changes to this user's jobs and the checklist templates since `cursor`."""
    device = g.api_device
    answer = pull_engine.pull(db.session, g.api_user, device, query["cursor"], clock().now(),
                              query["limit"])
    begin_write(db.session)  # SQLite: the pull's reads cannot turn into a write
    device.last_pull_at = clock().now()
    if query["pending"] is not None:
        engine.record_pending(device, query["pending"], device.last_pull_at)
    db.session.commit()
    return jsonify(answer)


def _may_read(sha256: str) -> bool:
    return job_service.blob_usable_by(db.session, g.api_user, sha256)


# The address's form, in the spec: anything else is a 400 bad_sha256 (PUT) or a 404 (GET).
SHA256_PARAMETER = {"in": "path", "name": "sha256", "schema": {
    "type": "string", "pattern": SHA256_RE.pattern,
    "description": "the SHA-256 of the bytes, 64 lowercase hex digits"}}


@blp.endpoint("PUT", "/blobs/<sha256>", parameters=[SHA256_PARAMETER], answers=(201,),
              description="Stored",
              errors={400: "bad_sha256: not a SHA-256 address (64 lowercase hex digits)",
                      404: None})
@blp.doc(requestBody={"required": True, "content": {
    t: {"schema": {"type": "string", "format": "binary"}}
    for t in ("image/jpeg", "image/png", "image/webp")}})
@blp.alt_response(200, description="Already held (same bytes)")
@blp.alt_response(413, description="Too large")
@blp.alt_response(415, description="Not a JPEG, PNG or WebP image (checked on the bytes)")
@blp.alt_response(422, description="hash_mismatch")
def put_blob(sha256):
    """Upload a photo or signature image to its SHA-256 address."""
    if not SHA256_RE.match(sha256):
        return error_response("bad_sha256", 400, {"sha256": sha256})
    limit = current_app.config["BLOB_MAX_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge({"max_bytes": limit})
    # No transaction may stay open while the bytes stream in: on SQLite it would hold the
    # write lock for as long as a slow phone takes to upload.
    uploader_id = g.api_user.id
    db.session.commit()
    stored = store().ingest(request.stream, sha256, limit)
    # Look and insert under the write lock: on SQLite a read that another upload of the same
    # bytes overtakes could not insert afterwards ("database is locked", not IntegrityError).
    begin_write(db.session)
    uploader = db.session.get(User, uploader_id)
    existing = db.session.get(Blob, sha256)
    if existing is not None:
        # Uploaded again: a mutation is about to reference it, so the retention clock of an
        # unreferenced blob starts again (the scheduler's blob clean-up counts from here).
        # Whoever sent the same bytes holds them: they may attach the blob too.
        existing.created_at = clock().now()
        job_service.record_upload(domain_ctx(), uploader, sha256)
        db.session.commit()
        return jsonify(_blob_json(stored)), 200
    try:
        db.session.add(Blob(sha256=sha256, size=stored.size, content_type=stored.content_type,
                            width=stored.width, height=stored.height,
                            created_at=clock().now(), uploaded_by_id=uploader_id))
        db.session.flush()
        job_service.record_upload(domain_ctx(), uploader, sha256)
        db.session.commit()
    except IntegrityError:  # the same bytes arrived twice at once
        db.session.rollback()
        begin_write(db.session)
        job_service.record_upload(domain_ctx(), db.session.get(User, uploader_id), sha256)
        db.session.commit()
        return jsonify(_blob_json(stored)), 200
    return jsonify(_blob_json(stored)), 201


def _blob_json(stored) -> dict:
    return {"sha256": stored.sha256, "size": stored.size, "content_type": stored.content_type,
            "width": stored.width, "height": stored.height}


@blp.endpoint(["GET", "HEAD"], "/blobs/<sha256>", parameters=[SHA256_PARAMETER], answers=(200,),
              description="The bytes (GET) or that they are held (HEAD)")
@blp.alt_response(404, description="Not held, or not visible to you")
def get_blob(sha256):
    """Is a blob held (HEAD) and its bytes (GET), for users who uploaded it or may see a job
    that uses it."""
    blob = db.session.get(Blob, sha256) if SHA256_RE.match(sha256) else None
    if blob is None or not store().exists(sha256):
        return error_response("not_found", 404)
    # HEAD is scoped like GET (a technician learns only of bytes they uploaded or that a job
    # of theirs uses), so it is no oracle for "does this photo exist"; the phone asks HEAD
    # only about its own uploads, and a PUT of bytes already held answers 200 anyway.
    if not _may_read(sha256):
        return error_response("not_found", 404)
    if request.method == "HEAD":
        return Response(status=200, headers={"Content-Length": str(blob.size),
                                             "Content-Type": blob.content_type})
    handle = store().open(sha256)
    response = Response(handle, mimetype=blob.content_type, direct_passthrough=True)
    response.headers["Content-Length"] = str(blob.size)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["ETag"] = f'"{sha256}"'
    return response

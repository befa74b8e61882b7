"""The contract's mutation types: the shape of their `args` (marshmallow) and what each does
to a job (through fieldapp.services.jobs, the same code the office uses)."""
from __future__ import annotations

from datetime import datetime

from marshmallow import Schema, ValidationError, fields, validate

from fieldapp.services import jobs as job_service

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="not a lowercase hex SHA-256")
TEXT = validate.Length(min=1, max=4000)
NAME = validate.Length(min=1, max=120)


class MutationInvalid(Exception):
    def __init__(self, code: str, details: dict):
        super().__init__(code)
        self.code, self.details = code, details


class _Args(Schema):
    class Meta:
        # Unknown keys are refused: a typo must not be silently dropped.
        unknown = "raise"


class StatusArgs(_Args):
    status = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lng = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


class AnswerArgs(_Args):
    item_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    value = fields.Raw(required=True, allow_none=False)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class NoteArgs(_Args):
    text = fields.String(required=True, validate=TEXT)


class PhotoArgs(_Args):
    photo_id = fields.UUID(required=True)
    sha256 = fields.String(required=True, validate=SHA256)
    item_key = fields.String(load_default=None, allow_none=True)
    caption = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    taken_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None)
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lng = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


class PhotoRemoveArgs(_Args):  # issue 16
    photo_id = fields.UUID(required=True)


class SignatureArgs(_Args):
    signature_id = fields.UUID(required=True)
    sha256 = fields.String(required=True, validate=SHA256)
    signer_name = fields.String(required=True, validate=NAME)
    signer_relation = fields.String(required=True, validate=validate.Length(min=1, max=60))


# Issue 8 extensions (optional; docs/sync-protocol.md): photos, the cause, the readable
# receipt number made on the phone, who signed, whether the receipt came back.
PHOTOS = fields.List(fields.String(validate=SHA256), load_default=None, allow_none=True,
                     validate=validate.Length(max=10))


class PartsArgs(_Args):
    request_id = fields.UUID(required=True)
    part_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 999))
    kind = fields.String(required=True, validate=validate.OneOf(job_service.PARTS_KINDS))
    reason = fields.String(required=True, validate=TEXT)
    cause = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    photo_sha256s = PHOTOS


class TakebackReceiptArgs(_Args):
    receipt_id = fields.UUID(required=True)
    items = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1, max=50))
    condition = fields.String(required=True, validate=TEXT)
    signature_sha256 = fields.String(required=True, validate=SHA256)
    receipt_no = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(min=1, max=40))
    signer_name = fields.String(load_default=None, allow_none=True, validate=NAME)
    photo_sha256s = PHOTOS


class TakebackReturnArgs(_Args):
    receipt_id = fields.UUID(required=True)
    signature_sha256 = fields.String(required=True, validate=SHA256)
    receipt_retrieved = fields.Boolean(load_default=None, allow_none=True)
    signer_name = fields.String(load_default=None, allow_none=True, validate=NAME)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


SCHEMAS = {
    "job.status": StatusArgs(),
    "checklist.answer": AnswerArgs(),
    "job.note": NoteArgs(),
    "photo.attach": PhotoArgs(),
    "photo.remove": PhotoRemoveArgs(),
    "signature.capture": SignatureArgs(),
    "parts.request": PartsArgs(),
    "takeback.receipt": TakebackReceiptArgs(),
    "takeback.return": TakebackReturnArgs(),
}


def parse_args(type_: str, args) -> dict:
    if not isinstance(args, dict):
        raise MutationInvalid("invalid_args", {"args": "must be an object"})
    try:
        clean = SCHEMAS[type_].load(args)
    except ValidationError as error:
        raise MutationInvalid("invalid_args", {"fields": error.messages}) from None
    # UUIDs back to their canonical string form: they are row ids.
    return {k: (str(v) if k.endswith("_id") and v is not None else v) for k, v in clean.items()}


def _status(ctx, actor, job, args, mutation_id):
    position = None
    if args.get("lat") is not None and args.get("lng") is not None:
        position = {"lat": args["lat"], "lng": args["lng"]}
    job_service.transition(ctx, actor, job, args["status"], reason=args.get("reason"),
                           position=position)


def _answer(ctx, actor, job, args, mutation_id):
    job_service.answer(ctx, actor, job, args["item_key"], args["value"], args.get("note"))


def _note(ctx, actor, job, args, mutation_id):
    # The mutation id names the note, so the same note re-sent is the same note.
    job_service.add_note(ctx, actor, job, args["text"], note_id=mutation_id)


def _photo(ctx, actor, job, args, mutation_id):
    job_service.attach_photo(ctx, actor, job, args)


def _photo_remove(ctx, actor, job, args, mutation_id):
    job_service.remove_photo(ctx, actor, job, args["photo_id"])


def _signature(ctx, actor, job, args, mutation_id):
    job_service.capture_signature(ctx, actor, job, args)


def _parts(ctx, actor, job, args, mutation_id):
    job_service.request_part(ctx, actor, job, args)


def _takeback_receipt(ctx, actor, job, args, mutation_id):
    job_service.takeback_receipt(ctx, actor, job, args)


def _takeback_return(ctx, actor, job, args, mutation_id):
    job_service.takeback_return(ctx, actor, job, args)


HANDLERS = {
    "job.status": _status,
    "checklist.answer": _answer,
    "job.note": _note,
    "photo.attach": _photo,
    "photo.remove": _photo_remove,
    "signature.capture": _signature,
    "parts.request": _parts,
    "takeback.receipt": _takeback_receipt,
    "takeback.return": _takeback_return,
}


class EvidenceTypes:
    """What a mutation carries that must survive a conflict."""

    @staticmethod
    def blobs_named(type_: str, args: dict) -> list[str]:
        if type_ in ("photo.attach", "signature.capture"):
            return [args["sha256"]]
        if type_ in ("takeback.receipt", "takeback.return"):
            return [args["signature_sha256"], *(args.get("photo_sha256s") or [])]
        if type_ == "parts.request":
            return list(args.get("photo_sha256s") or [])
        return []

    @staticmethod
    def jsonable(args: dict) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in args.items()}

"""The contract's mutation types: the shape of their `args` (marshmallow) and what each does
to a job (through fieldapp.jobs.service, the same code the office uses)."""
from __future__ import annotations

import math
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate

from fieldapp.jobs import service as job_service

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="not a lowercase hex SHA-256")
TEXT = validate.Length(min=1, max=4000)
NAME = validate.Length(min=1, max=120)

# Bounds of any value in a mutation's args, whatever its field: no field takes more text than
# a note (4000), and a phone never nests deeper than a take-back's item list.
MAX_STRING = 10_000
MAX_DEPTH = 8
MAX_ITEMS = 200
SAFE_INTEGER = 2 ** 53  # beyond it JavaScript's numbers (the phone's) lose digits


class MutationInvalid(Exception):
    def __init__(self, code: str, details: dict):
        super().__init__(code)
        self.code, self.details = code, details


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored or sent as JSON text, or None. A lone UTF-16 surrogate
    (JavaScript string slicing makes them) has no UTF-8 form; PostgreSQL refuses NUL."""
    if "\x00" in text:
        return "nul_byte"
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        return "lone_surrogate"
    if len(text) > MAX_STRING:
        return "too_long"
    return None


def value_problem(value, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """The first hostile value inside a JSON value, as (path, problem), or None.

    Hostile: a number that is not finite (Python's JSON parser reads NaN and Infinity) or
    beyond a phone's exact integers, text that `text_problem` refuses (object keys included),
    nesting deeper than MAX_DEPTH, a list or object longer than MAX_ITEMS."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, "non_finite_number")
    if isinstance(value, int):
        return None if -SAFE_INTEGER <= value <= SAFE_INTEGER else (path, "number_out_of_range")
    if isinstance(value, str):
        problem = text_problem(value)
        return (path, problem) if problem else None
    if depth >= MAX_DEPTH:
        return path, "too_deep"
    if isinstance(value, (list, tuple)):  # tuples: in the details the server writes
        if len(value) > MAX_ITEMS:
            return path, "too_many_items"
        for index, item in enumerate(value):
            found = value_problem(item, f"{path}[{index}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            return path, "too_many_items"
        for key, item in value.items():
            key = key if isinstance(key, str) else str(key)  # a list index in error messages
            key_problem = text_problem(key) if len(key) <= 200 else "too_long"
            child = f"{path}.{printable(key)}" if path else printable(key)
            if key_problem:
                return child, key_problem
            found = value_problem(item, child, depth + 1)
            if found:
                return found
        return None
    return path, "not_json"


def printable(value, limit: int = 200):
    """`value` made safe to echo back in an answer and to store in the mutation log: numbers
    that are not finite become their name, text loses NUL and lone surrogates (escaped as
    `\\udxxx`) and is cut to `limit`; lists and objects likewise, to a small depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)  # "nan", "inf", "-inf"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > SAFE_INTEGER:
        return str(value)[:limit]
    if isinstance(value, str):
        cut = value[:limit]
        if text_problem(cut):
            cut = cut.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()
        return cut
    if isinstance(value, (list, tuple)):
        return [printable(v, limit) for v in value[:50]] if limit > 20 else "[...]"
    if isinstance(value, dict):
        return ({printable(str(k), 60): printable(v, limit // 2) for k, v in
                 list(value.items())[:50]} if limit > 20 else "{...}")
    return value


class StrictBoolean(fields.Boolean):
    """true or false only: "yes", 0 and 1 are not booleans in JSON."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class JsonNumber(fields.Float):
    """A JSON number (never a string that looks like one), finite."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


def in_utc_range(moment: datetime) -> bool:
    """A moment that has a UTC form a column can hold (year 1 at +14:00 has none). A phone
    whose clock says year 1 or 9999 is still heard: the time of record clamps its `at`."""
    try:
        moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return False
    return True


def _moment(moment: datetime) -> None:
    if not in_utc_range(moment):
        raise ValidationError("out of range")


class _Args(Schema):
    class Meta:
        # Unknown keys are refused: a typo must not be silently dropped.
        unknown = "raise"


class StatusArgs(_Args):
    status = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    lat = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lng = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


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
    taken_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None,
                                  validate=_moment)
    lat = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lng = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


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
    receipt_retrieved = StrictBoolean(load_default=None, allow_none=True)
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
    """The mutation's args checked and cleaned, or MutationInvalid `invalid_args` naming the
    field. Every value is checked for hostile content first (`value_problem`), whatever the
    field, so nothing that cannot be stored or sent back as strict JSON gets further."""
    if not isinstance(args, dict):
        raise MutationInvalid("invalid_args", {"args": "must be an object"})
    hostile = value_problem(args)
    if hostile:
        field, problem = hostile
        raise MutationInvalid("invalid_args", {"field": field, "problem": problem,
                                               "fields": {field: [problem]}})
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

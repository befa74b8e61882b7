"""The parts and take-back mutation types (issue 8, docs/parts.md), each declared once. They
act through `fieldapp.parts.service`."""
from __future__ import annotations

from marshmallow import fields, validate

from fieldapp.jobs.mutations import BLOB_ERRORS, EVIDENCE_ERRORS
from fieldapp.mutations import NAME, PHOTOS, SHA256, TEXT, Args, MutationType, StrictBoolean
from fieldapp.mutations import LazyText as _l
from fieldapp.parts import service as parts_service
from fieldapp.parts.service import PARTS_KINDS


class PartsArgs(Args):
    request_id = fields.UUID(required=True)
    part_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    quantity = fields.Integer(required=True, strict=True, validate=validate.Range(1, 999))
    kind = fields.String(required=True, validate=validate.OneOf(PARTS_KINDS))
    reason = fields.String(required=True, validate=TEXT)
    cause = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    photo_sha256s = PHOTOS


class TakebackReceiptArgs(Args):
    receipt_id = fields.UUID(required=True)
    items = fields.List(fields.Raw(), required=True, validate=validate.Length(min=1, max=50))
    condition = fields.String(required=True, validate=TEXT)
    signature_sha256 = fields.String(required=True, validate=SHA256)
    receipt_no = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(min=1, max=40))
    signer_name = fields.String(load_default=None, allow_none=True, validate=NAME)
    photo_sha256s = PHOTOS


class TakebackReturnArgs(Args):
    receipt_id = fields.UUID(required=True)
    signature_sha256 = fields.String(required=True, validate=SHA256)
    receipt_retrieved = StrictBoolean(load_default=None, allow_none=True)
    signer_name = fields.String(load_default=None, allow_none=True, validate=NAME)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


def _parts(ctx, actor, job, args, mutation_id):
    parts_service.request_part(ctx, actor, job, args)


def _takeback_receipt(ctx, actor, job, args, mutation_id):
    parts_service.takeback_receipt(ctx, actor, job, args)


def _takeback_return(ctx, actor, job, args, mutation_id):
    parts_service.takeback_return(ctx, actor, job, args)


def _photos(args: dict) -> list[str]:
    return list(args.get("photo_sha256s") or [])


def _signature_and_photos(args: dict) -> list[str]:
    return [args["signature_sha256"], *(args.get("photo_sha256s") or [])]


TYPES = (
    MutationType(
        "parts.request", PartsArgs(), _parts, event="parts_request", label=_l("Parts request"),
        errors=(*EVIDENCE_ERRORS, *BLOB_ERRORS, "request_id_taken", "too_many_photos",
                "bad_parts_kind", "part_name_required", "reason_required", "bad_cause"),
        blobs=_photos,
        counts_as="part",
        doc="a part asked for (replacement or supplementary), waiting for a supervisor"),
    MutationType(
        "takeback.receipt", TakebackReceiptArgs(), _takeback_receipt, event="takeback_receipt",
        label=_l("Taken away for repair"),
        errors=(*EVIDENCE_ERRORS, *BLOB_ERRORS, "receipt_id_taken", "too_many_photos",
                "bad_items", "signature_not_png", "condition_required", "bad_receipt_no"),
        blobs=_signature_and_photos,
        counts_as="takeback",
        doc="a product taken away for repair; makes the follow-up job once"),
    MutationType(
        "takeback.return", TakebackReturnArgs(), _takeback_return, event="takeback_return",
        label=_l("Brought back"),
        errors=(*EVIDENCE_ERRORS, *BLOB_ERRORS, "unknown_receipt", "receipt_not_on_job",
                "already_returned", "signature_not_png", "receipt_note_required"),
        blobs=_signature_and_photos,
        counts_as="takeback",
        doc="the product brought back, the repair slip signed; closes the receipt"),
)

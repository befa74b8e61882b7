"""The job's mutation types (docs/sync-protocol.md): status moves, checklist answers, notes,
photos and signatures, each declared once. They act through `fieldapp.jobs.service`, the same
code the office uses."""
from __future__ import annotations

from marshmallow import fields, validate

from fieldapp.jobs import service as job_service
from fieldapp.mutations import NAME, SHA256, TEXT, Args, JsonNumber, MutationType, moment
from fieldapp.mutations import LazyText as _l

# What any change to a job's evidence can be refused with (service.ensure_open_for_evidence,
# service.require_blob).
EVIDENCE_ERRORS = ("job_closed",)
BLOB_ERRORS = ("bad_sha256", "blob_missing", "blob_not_yours")


class StatusArgs(Args):
    status = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    lat = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lng = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


class AnswerArgs(Args):
    item_key = fields.String(required=True, validate=validate.Length(min=1, max=64))
    value = fields.Raw(required=True, allow_none=False)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class NoteArgs(Args):
    text = fields.String(required=True, validate=TEXT)


class PhotoArgs(Args):
    photo_id = fields.UUID(required=True)
    sha256 = fields.String(required=True, validate=SHA256)
    item_key = fields.String(load_default=None, allow_none=True)
    caption = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    taken_at = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=None,
                                    validate=moment)
    lat = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lng = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(-180, 180))


class PhotoRemoveArgs(Args):  # issue 16
    photo_id = fields.UUID(required=True)


class SignatureArgs(Args):
    signature_id = fields.UUID(required=True)
    sha256 = fields.String(required=True, validate=SHA256)
    signer_name = fields.String(required=True, validate=NAME)
    signer_relation = fields.String(required=True, validate=validate.Length(min=1, max=60))


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


def _its_blob(args: dict) -> list[str]:
    return [args["sha256"]]


TYPES = (
    MutationType(
        "job.status", StatusArgs(), _status, event="status", label=_l("Status"),
        errors=("unknown_status", "illegal_transition", "forbidden_transition",
                "reason_required", "comment_required", "checklist_incomplete"),
        counts_as="status",
        doc="a status move through the state machine (`reason` where the move needs one)"),
    MutationType(
        "checklist.answer", AnswerArgs(), _answer, event="answer", label=_l("Checklist answer"),
        errors=(*EVIDENCE_ERRORS, "unknown_item", "check_needs_boolean", "number_needed",
                "text_needed", "text_too_long", "not_an_option", "photo_item_takes_photos",
                "unknown_kind"),
        counts_as="answer",
        doc="the answer to one checklist item (its kind decides the value)"),
    MutationType(
        "job.note", NoteArgs(), _note, event="note", label=_l("Note"),
        errors=(*EVIDENCE_ERRORS, "empty_note", "note_too_long"),
        counts_as="note",
        doc="a note; the mutation id names it"),
    MutationType(
        "photo.attach", PhotoArgs(), _photo, event="photo", label=_l("Photo"),
        errors=(*EVIDENCE_ERRORS, *BLOB_ERRORS, "not_a_photo_item"), blobs=_its_blob,
        counts_as="photo",
        doc="an uploaded photo attached to the job, or to one of its photo items"),
    MutationType(
        "photo.remove", PhotoRemoveArgs(), _photo_remove, event="photo_removed",
        label=_l("Photo taken back"), errors=(*EVIDENCE_ERRORS, "photo_not_found"),
        doc="a photo taken back (deleted or retaken) before completion"),
    MutationType(
        "signature.capture", SignatureArgs(), _signature, event="signature",
        label=_l("Signature"), errors=(*EVIDENCE_ERRORS, *BLOB_ERRORS, "signature_not_png"),
        blobs=_its_blob, counts_as="signature",
        doc="the customer's signature (an uploaded PNG) and who signed"),
)

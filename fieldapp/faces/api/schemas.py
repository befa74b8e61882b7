"""Request and response shapes of the public JSON API (they also make the OpenAPI)."""
import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from fieldapp.core import states
from fieldapp.core.job_types import JOB_TYPES
from fieldapp.jobs.service import CHANNELS, CONTACT_OUTCOMES, PRIORITIES
from fieldapp.web import FIRST_DAY, LAST_DAY, day_in_range

NONBLANK = validate.Length(min=1)

# Text no database stores as sent: PostgreSQL refuses NUL in text, and a lone UTF-16
# surrogate (what JavaScript's string slicing can leave) is no character at all in UTF-8.
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")
BAD_TEXT = "Text may not contain NUL characters or unpaired UTF-16 surrogates."
BAD_NUMBER = "Numbers must be finite."
DATE_RANGE_TEXT = f"between {FIRST_DAY} and {LAST_DAY}"


def storable_text(value: str) -> bool:
    return _UNSTORABLE_TEXT.search(value) is None


def unstorable_values(value):
    """Where in a request's data (a JSON value or the query's fields) text holds NUL or a
    lone surrogate, or a number is not finite: marshmallow's nested error shape, or None."""
    if isinstance(value, str):
        return None if storable_text(value) else [BAD_TEXT]
    if isinstance(value, float):
        return None if math.isfinite(value) else [BAD_NUMBER]
    if isinstance(value, Mapping):
        problems = {}
        for key in value:
            if isinstance(key, str) and not storable_text(key):
                problems["_schema"] = [BAD_TEXT]  # the key itself; never echo it back
                continue
            found = unstorable_values(value[key])
            if found:
                problems[key] = found
        return problems or None
    if isinstance(value, (list, tuple)):
        problems = {index: found for index, item in enumerate(value)
                    if (found := unstorable_values(item))}
        return problems or None
    return None


def _in_date_range(value) -> bool:
    if isinstance(value, datetime):
        if not FIRST_DAY.year <= value.year <= LAST_DAY.year:
            return False  # before converting: year 1 at +14:00 overflows astimezone()
        value = value.astimezone(timezone.utc).date() if value.tzinfo else value.date()
    return day_in_range(value)


def validate_date_range(value) -> None:
    if not _in_date_range(value):
        raise ValidationError(f"The date must be {DATE_RANGE_TEXT}.")


class RowId(fields.Integer):
    """A row's id in a request: a whole number from 1 to 2**31 - 1, the range of the
    database's INTEGER column (PostgreSQL refuses more), said in the OpenAPI too, so that a
    number out of that range is a field error and never reaches a query."""

    def __init__(self, **kwargs):
        super().__init__(validate=validate.Range(min=1, max=2**31 - 1), **kwargs)


class StrictBoolean(fields.Boolean):
    """A JSON boolean: true or false, nothing else ("yes", 1, 0 and "true" are refused)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            return value
        raise self.make_error("invalid", input=value)


class QueryFlag(fields.Boolean):
    """A yes/no query parameter: `true` or `1`, `false` or `0`; nothing else. Documented
    as that string enum (the phone sends `unread=1`)."""

    truthy = {"true", "1"}
    falsy = {"false", "0"}
    VALUES = ["true", "false", "1", "0"]

    def __init__(self, **kwargs):
        metadata = {"enum": self.VALUES, **kwargs.pop("metadata", {})}
        if isinstance(kwargs.get("load_default"), bool):  # documented as the string sent
            metadata["default"] = "true" if kwargs["load_default"] else "false"
        super().__init__(metadata=metadata, **kwargs)


class Strict(Schema):
    """Every request schema: unknown fields refused; text with NUL or lone surrogates,
    non-finite numbers and dates outside FIRST_DAY..LAST_DAY answered 422 naming the field,
    for every field (nested, lists and free-form dicts too) without each schema saying so."""

    class Meta:
        unknown = "raise"
        ordered = True

    @pre_load
    def _storable_values(self, data, **kwargs):
        problems = unstorable_values(data) if isinstance(data, Mapping) else None
        if problems:
            raise ValidationError(problems)
        return data

    def on_bind_field(self, field_name, field_obj):
        if type(field_obj) is fields.Boolean:
            # fields.Boolean takes "yes", "on", 1 and 0 as booleans.
            raise TypeError(f"{type(self).__name__}.{field_name}: use StrictBoolean (JSON) "
                            "or QueryFlag (query string), not fields.Boolean")
        if isinstance(field_obj, (fields.DateTime, fields.Date)):
            field_obj.validators = [*field_obj.validators, validate_date_range]
            description = field_obj.metadata.get("description")
            field_obj.metadata = {**field_obj.metadata, "description": (
                f"{description}; {DATE_RANGE_TEXT}" if description else DATE_RANGE_TEXT)}


# --- auth

class LoginSchema(Strict):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256),
                             load_only=True)
    device_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    device_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "Optional: the device id this phone had before, to keep its seq."})


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    role = fields.String()
    display_name = fields.String()


class LoginResultSchema(Schema):
    token = fields.String()
    device_id = fields.String()
    user = fields.Nested(UserSchema)


class MeSchema(Schema):
    user = fields.Nested(UserSchema)
    device_id = fields.String()
    last_seq = fields.Integer(metadata={
        "description": "the last mutation seq this device's pushes reached on the server"})


class ErrorSchema(Schema):
    error = fields.String(metadata={"description": "stable error code"})
    message = fields.String(metadata={"description": "human text in the caller's language"})
    details = fields.Dict()


# --- jobs

class CustomerInSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phone = fields.String(required=True, validate=validate.Length(min=5, max=32))
    address = fields.String(required=True, validate=validate.Length(min=1, max=500))
    email = fields.Email(load_default=None, allow_none=True)


class JobCreateSchema(Strict):
    type = fields.String(required=True, validate=validate.OneOf(JOB_TYPES))
    customer = fields.Nested(CustomerInSchema, required=True)
    product_model = fields.String(required=True, validate=validate.Length(min=1, max=200))
    problem = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))
    scheduled_start = fields.AwareDateTime(load_default=None, allow_none=True,
                                           default_timezone=None)
    scheduled_end = fields.AwareDateTime(load_default=None, allow_none=True,
                                         default_timezone=None)
    technician_id = RowId(load_default=None, allow_none=True, strict=True)


class JobPatchSchema(Strict):
    technician_id = RowId(allow_none=True, strict=True)
    scheduled_start = fields.AwareDateTime(allow_none=True, default_timezone=None)
    scheduled_end = fields.AwareDateTime(allow_none=True, default_timezone=None)
    status = fields.String(validate=validate.OneOf([states.CANCELLED]))
    reason = fields.String(validate=validate.Length(max=2000))
    override = StrictBoolean(metadata={"description": (
        "with status: cancelled, required (true) when the job is under way (en_route, "
        "on_site, in_progress, paused): else 409 job_under_way")})

    @validates_schema
    def _names_a_change(self, data, **kwargs):
        # An empty or non-JSON body must not answer 200 as if something was done.
        if not set(data) & {"technician_id", "scheduled_start", "scheduled_end", "status"}:
            raise ValidationError("Name a change: technician_id, scheduled_start, "
                                  "scheduled_end or status.", "_schema")
        if "reason" in data and "status" not in data:
            raise ValidationError("A reason goes with status: cancelled.", "reason")
        if "override" in data and "status" not in data:
            raise ValidationError("An override goes with status: cancelled.", "override")


class JobListQuerySchema(Strict):
    status = fields.String(validate=validate.OneOf(states.STATUSES))
    technician_id = RowId()
    date = fields.Date(metadata={"description": "scheduled on this local date"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 1_000_000))


class ContactSchema(Strict):
    outcome = fields.String(required=True, validate=validate.OneOf(CONTACT_OUTCOMES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ReviewSchema(Strict):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "rework"]))
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=4000))
    override = StrictBoolean(load_default=False, metadata={"description": (
        "approve although a complaint about the job is open (with a comment saying why); "
        "without it such an approval answers 409 open_complaints")})


class NoteInSchema(Strict):
    text = fields.String(required=True, validate=validate.Length(min=1, max=4000))


class SlaClockSchema(Schema):
    name = fields.String()
    due_at = fields.String()
    met_at = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": ["running", "met", "breached"]})


class CustomerOutSchema(Schema):
    id = fields.String()
    name = fields.String()
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class JobSchema(Schema):
    id = fields.String()
    ref = fields.String()
    type = fields.String()
    status = fields.String(metadata={"enum": list(states.STATUSES)})
    status_reason = fields.String(allow_none=True)
    priority = fields.String()
    channel = fields.String()
    customer = fields.Nested(CustomerOutSchema)
    product_model = fields.String()
    problem = fields.String()
    scheduled_start = fields.String(allow_none=True)
    scheduled_end = fields.String(allow_none=True)
    technician_id = fields.Integer(allow_none=True)
    technician = fields.Nested(UserSchema, allow_none=True)
    checklist_template_id = fields.String()
    created_at = fields.String()
    updated_at = fields.String()
    # Time of record (issue 16): when the technician did it, not when it reached the server.
    arrived_at = fields.String(allow_none=True, metadata={
        "description": "first move to on_site (corrected device time)"})
    work_started_at = fields.String(allow_none=True, metadata={
        "description": "first move to in_progress (corrected device time)"})
    completed_at = fields.String(allow_none=True, metadata={
        "description": "latest move to completed (corrected device time)"})
    approved_at = fields.String(allow_none=True)
    needs_review = fields.Boolean()
    sla = fields.List(fields.Nested(SlaClockSchema))


_AT = {"description": "when it happened: the device's clock corrected by its offset"}
_RECEIVED_AT = {"description": "when the server received it"}


class AnswerOutSchema(Schema):
    value = fields.Raw()
    note = fields.String(allow_none=True)
    at = fields.String(allow_none=True, metadata=_AT)
    received_at = fields.String(metadata=_RECEIVED_AT)
    answered_at = fields.String(metadata={"description": "same as received_at (older name)"})
    device_at = fields.String(allow_none=True, metadata={"description": "the phone's raw clock"})


class PhotoOutSchema(Schema):
    id = fields.String()
    sha256 = fields.String()
    item_key = fields.String(allow_none=True)
    caption = fields.String(allow_none=True)
    taken_at = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lng = fields.Float(allow_none=True)
    at = fields.String(allow_none=True, metadata=_AT)
    received_at = fields.String(metadata=_RECEIVED_AT)
    created_at = fields.String(metadata={"description": "same as received_at (older name)"})
    removed_at = fields.String(allow_none=True, metadata={
        "description": "taken back with photo.remove (only in removed_photos)"})


class SignatureOutSchema(Schema):
    id = fields.String()
    sha256 = fields.String()
    signer_name = fields.String()
    signer_relation = fields.String()
    at = fields.String(allow_none=True, metadata=_AT)
    received_at = fields.String(metadata=_RECEIVED_AT)
    created_at = fields.String(metadata={"description": "same as received_at (older name)"})


class NoteOutSchema(Schema):
    id = fields.String()
    text = fields.String()
    author_role = fields.String()
    author = fields.String(allow_none=True)
    at = fields.String(allow_none=True, metadata=_AT)
    received_at = fields.String(metadata=_RECEIVED_AT)
    created_at = fields.String(metadata={"description": "same as received_at (older name)"})
    device_at = fields.String(allow_none=True)


class AuditEventOutSchema(Schema):
    """An entry of an audit trail (a job's events, a complaint's): what the subclasses
    share, first."""

    id = fields.Integer()
    type = fields.String()
    data = fields.Dict()
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)


class EventOutSchema(AuditEventOutSchema):
    device_id = fields.String(allow_none=True)
    at = fields.String(allow_none=True, metadata=_AT)
    server_at = fields.String(metadata=_RECEIVED_AT)
    device_at = fields.String(allow_none=True, metadata={"description": "the phone's raw clock"})


class JobDetailSchema(JobSchema):
    answers = fields.Dict(keys=fields.String(), values=fields.Nested(AnswerOutSchema))
    photos = fields.List(fields.Nested(PhotoOutSchema))
    removed_photos = fields.List(fields.Nested(PhotoOutSchema))
    signatures = fields.List(fields.Nested(SignatureOutSchema))
    notes = fields.List(fields.Nested(NoteOutSchema))
    events = fields.List(fields.Nested(EventOutSchema))
    conflicts = fields.List(fields.Dict())
    parts_requests = fields.List(fields.Dict())
    takebacks = fields.List(fields.Dict())
    review = fields.Dict(allow_none=True)
    seal = fields.Dict(allow_none=True)


def offset_page_schema(name: str, item: type[Schema]) -> type[Schema]:
    """The schema of one page of a list read by limit and offset: `items`, `total` (all the
    matching rows), `limit`, `offset`."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item)), "total": fields.Integer(),
                             "limit": fields.Integer(), "offset": fields.Integer()}, name=name)


JobListSchema = offset_page_schema("JobListSchema", JobSchema)


# --- sync

class MutationSchema(Schema):
    seq = fields.Integer(required=True)
    id = fields.String(required=True)
    type = fields.String(required=True)
    job_id = fields.String(required=True)
    at = fields.String()
    args = fields.Dict(required=True)


class StorageStateSchema(Schema):
    persisted = fields.Boolean(metadata={"description": "navigator.storage.persist() granted"})
    sw = fields.Boolean(metadata={"description": "a service worker controls the page"})
    idb = fields.Boolean(metadata={"description": "IndexedDB works"})


class ClientStateSchema(Schema):
    storage = fields.Nested(StorageStateSchema)
    pending = fields.Integer(metadata={"description": "changes waiting on the phone"})


class PushSchema(Schema):
    device_id = fields.String(required=True)
    mutations = fields.List(fields.Nested(MutationSchema), required=True)
    sent_at = fields.String(metadata={
        "description": "the device's clock when it sent the batch (ISO 8601): receipt minus "
                       "sent_at is its clock offset (time of record)"})
    client = fields.Nested(ClientStateSchema, metadata={
        "description": "the phone's self-report, shown to the office beside its last sync"})


class PushResultSchema(Schema):
    last_seq = fields.Integer()
    results = fields.List(fields.Dict())


class PullQuerySchema(Strict):
    cursor = fields.String(load_default="")
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500))
    pending = fields.Integer(load_default=None, validate=validate.Range(0, 10**9 - 1), metadata={
        "description": "changes still waiting on the phone after its push (shown to the "
                       "office; for a revoked phone, what was lost)"})


class PullResultSchema(Schema):
    cursor = fields.String()
    has_more = fields.Boolean()
    last_seq = fields.Integer()
    changes = fields.Dict()
    removed = fields.Dict()

"""What a mutation type is, and the field types its args are built from.

A mutation is a change a phone made offline and pushes later (docs/sync-protocol.md). Each
type is declared once, as one `MutationType`, beside its domain (`fieldapp/jobs/mutations.py`,
`fieldapp/parts/mutations.py`); `sync/registry.py` collects them and the sync engine, the
labels and the protocol's table of types (docs/sync-protocol.md) read them from there.
Plain Python over marshmallow: no Flask, no sync engine here.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from markupsafe import escape
from marshmallow import Schema, ValidationError, fields, validate

SHA256 = validate.Regexp(r"^[0-9a-f]{64}$", error="not a lowercase hex SHA-256")
TEXT = validate.Length(min=1, max=4000)
NAME = validate.Length(min=1, max=120)


class LazyText:
    """A message translated when it is read, as flask_babel's `lazy_gettext` (English outside
    a request), but without importing Flask until then: `sync/` and the declarations of the
    mutation types import without Flask (tests/core/test_sla.py). Declare with
    `from fieldapp.mutations import LazyText as _l`, so that `make messages` finds the text."""

    def __init__(self, msgid: str):
        self.msgid = msgid

    def __str__(self) -> str:
        from flask_babel import gettext  # why: only reading a label needs Flask (see above)

        return gettext(self.msgid)

    def __html__(self) -> str:
        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"LazyText({self.msgid!r})"


def no_blobs(args: dict) -> list[str]:
    return []


@dataclass(frozen=True)
class MutationType:
    """One mutation type, complete: `sync/registry.py` refuses a type that lacks a part.

    - `name`: the contract's `type` (`"job.status"`);
    - `args`: the marshmallow schema its `args` must pass (unknown keys refused);
    - `apply(ctx, actor, job, args, mutation_id)`: what it does, through the domain's service;
    - `event`: the type of the job event it records, `label`: that event's name in both
      languages (a lazy gettext string), shown on the desk's and the review's timelines;
    - `errors`: the codes of the DomainErrors `apply` can refuse it with (each has its message
      in both languages in fieldapp/messages.py);
    - `blobs(args)`: the SHA-256 of every blob its args name (they must be uploaded first, and
      they survive a conflict);
    - `doc`: one line for the protocol's table of types;
    - `counts_as`: what a person counts one still waiting on the phone as ("2 张照片、1 个签名"):
      a key of the phone's `THINGS` in static/app/js/i18n.js, read from /app/registry.js.
    """

    name: str
    args: Schema
    apply: Callable
    event: str
    label: object
    errors: tuple[str, ...]
    doc: str
    blobs: Callable[[dict], list[str]] = field(default=no_blobs)
    counts_as: str = "other"


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


def moment(value: datetime) -> None:
    if not in_utc_range(value):
        raise ValidationError("out of range")


class Args(Schema):
    class Meta:
        # Unknown keys are refused: a typo must not be silently dropped.
        unknown = "raise"


# Issue 8 extensions (optional; docs/sync-protocol.md): photos, the cause, the readable
# receipt number made on the phone, who signed, whether the receipt came back.
PHOTOS = fields.List(fields.String(validate=SHA256), load_default=None, allow_none=True,
                     validate=validate.Length(max=10))

"""The one registry of mutation types. Each type is declared once, beside its domain
(`fieldapp/jobs/mutations.py`, `fieldapp/parts/mutations.py`, as a `MutationType`); this
module collects them, refuses an incomplete or repeated one, and is what the engine, the
labels and docs/sync-protocol.md's table of types read.

Adding a type: declare it in its domain's `mutations.py` `TYPES` (docs/ARCHITECTURE.md,
"Adding a mutation type"); a new domain with mutation types goes into `DOMAINS` below.
"""
from __future__ import annotations

from datetime import datetime

from marshmallow import Schema, ValidationError

from fieldapp.jobs import mutations as job_mutations
from fieldapp.mutations import MutationType
from fieldapp.parts import mutations as parts_mutations

from .values import MutationInvalid, value_problem

DOMAINS = (job_mutations, parts_mutations)

# What the engine itself may refuse a mutation of any type with, beside the type's own
# `errors` (docs/sync-protocol.md). Each is worded in fieldapp/messages.py, so the phone can
# say it (/app/registry.js); tests/sync/test_registry.py finds any code the engine raises
# that is missing here.
ENGINE_ERRORS = ("invalid_args", "unknown_type", "bad_id", "bad_job_id", "bad_at",
                 "job_not_found", "seq_reused", "mutation_id_taken")


def missing_parts(kind: MutationType) -> list[str]:
    """The parts a declared type lacks (empty: it is complete)."""
    missing = []
    if not isinstance(kind.name, str) or "." not in kind.name:
        missing.append("name")
    if not isinstance(kind.args, Schema):
        missing.append("args")
    if not callable(kind.apply):
        missing.append("apply")
    if not callable(kind.blobs):
        missing.append("blobs")
    if not kind.event or not isinstance(kind.event, str):
        missing.append("event")
    if not kind.label or not str(kind.label).strip():
        missing.append("label")
    if not kind.errors or not all(isinstance(code, str) and code for code in kind.errors):
        missing.append("errors")
    if not kind.doc or not kind.doc.strip():
        missing.append("doc")
    return missing


def collect(domains=DOMAINS) -> dict[str, MutationType]:
    types: dict[str, MutationType] = {}
    for domain in domains:
        for kind in domain.TYPES:
            if kind.name in types:
                raise ValueError(f"mutation type {kind.name} is declared twice")
            types[kind.name] = kind
    return types


TYPES = collect()

# Read by the engine at each mutation (tests replace an entry with monkeypatch.setitem).
HANDLERS = {name: kind.apply for name, kind in TYPES.items()}
SCHEMAS = {name: kind.args for name, kind in TYPES.items()}
# The job events the mutation types record, and their labels in both languages.
EVENT_LABELS = {kind.event: kind.label for kind in TYPES.values()}


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


def blobs_named(type_: str, args: dict) -> list[str]:
    """What a mutation carries that must survive a conflict: the blobs its args name."""
    return TYPES[type_].blobs(args)


def jsonable(args: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in args.items()}


def markdown_table() -> str:
    """The table of types in docs/sync-protocol.md (a test keeps the two the same)."""
    rows = ["| type | args | blobs | event | refused with |", "|---|---|---|---|---|"]
    for name, kind in TYPES.items():
        fields = ", ".join(f"`{f}`" + ("" if spec.required else "?")
                           for f, spec in kind.args.fields.items())
        blobs = "yes" if kind.blobs is not MutationType.__dataclass_fields__["blobs"].default \
            else "—"
        errors = ", ".join(f"`{code}`" for code in kind.errors)
        rows.append(f"| `{name}` | {fields} | {blobs} | `{kind.event}` | {errors} |")
    return "\n".join(rows) + "\n"

"""hostile values repaired; who uploaded each blob (issue 14)

Before issue 14 a push could store values no strict JSON parser reads (NaN, Infinity) and text
that has no UTF-8 form (a lone UTF-16 surrogate) or that PostgreSQL refuses (NUL). This
migration repairs what is stored:

- a checklist answer holding such a value, on a job not sealed yet, is removed: its meaning
  cannot be guessed, the technician answers again. The removal is appended to the job's audit
  trail (`answer_removed`, with the problem) and the job is bumped so phones pull it again.
  A sealed job keeps its answers (changing them would break its seal);
- the logged answers of mutations (`mutations.details`), conflict evidence (`conflicts.args`),
  take-back item lists (`takebacks.items`) and the audit trail of jobs not sealed yet
  (`job_events.data`: the values the pages and the job's JSON show) are cleaned in place: a
  non-finite number becomes its name ("NaN", "Infinity", "-Infinity"), NUL is dropped and a
  lone surrogate becomes U+FFFD;
- a sealed job's audit trail and the seal records stay as they were (the seal proves them);
  the server sends their non-finite numbers as null (`json_safe` in
  fieldapp/services/views.py). A sealed job holds no lone surrogate: sealing one failed.

And `blob_uploads`: every user who uploaded a blob's bytes (attaching a blob needs it, or a
job that already uses the blob), filled from `blobs.uploaded_by_id`.

Revision ID: 3f9c2a7d51e0
Revises: b16c0a7e2d41
Create Date: 2026-12-03 09:40:00.000000

"""
import json
import math

import sqlalchemy as sa
from alembic import op

from fieldapp.core.clock import Clock

# revision identifiers, used by Alembic.
revision = '3f9c2a7d51e0'
down_revision = 'b16c0a7e2d41'
branch_labels = None
depends_on = None

UNSEALED = "WHERE NOT EXISTS (SELECT 1 FROM seals s WHERE s.job_id = t.job_id)"
CLEANED_IN_PLACE = (("mutations", "details", ""), ("conflicts", "args", ""),
                    ("takebacks", "items", ""), ("job_events", "data", UNSEALED))


def _problem(value):
    """The first thing in a stored JSON value no strict parser or UTF-8 column takes."""
    if isinstance(value, float) and not math.isfinite(value):
        return "non_finite_number"
    if isinstance(value, str):
        if "\x00" in value:
            return "nul_byte"
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            return "lone_surrogate"
        return None
    if isinstance(value, list):
        return next(filter(None, map(_problem, value)), None)
    if isinstance(value, dict):
        return next(filter(None, (_problem(k) or _problem(v) for k, v in value.items())), None)
    return None


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}[repr(value)]
    if isinstance(value, str):
        text = value.replace("\x00", "")
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    return value


def _json_rows(bind, table, column, where=""):
    """(id, parsed value) of every row, read as text: the driver's own JSON parsing is
    bypassed, so a stored NaN reads back as what it is."""
    rows = bind.execute(sa.text(
        f"SELECT t.id, CAST(t.{column} AS TEXT) FROM {table} t {where}")).all()
    for row_id, raw in rows:
        if raw is not None:
            yield row_id, json.loads(raw)


def _set_json(bind, table, column, row_id, value):
    cast = "CAST(:value AS JSON)" if bind.dialect.name == "postgresql" else ":value"
    bind.execute(sa.text(f"UPDATE {table} SET {column} = {cast} WHERE id = :id"),
                 {"value": json.dumps(value, allow_nan=False), "id": row_id})


def _next_change(bind) -> int:
    value = bind.execute(sa.text("SELECT value FROM counters WHERE name = 'change'")).scalar()
    if value is None:
        bind.execute(sa.text("INSERT INTO counters (name, value) VALUES ('change', 1)"))
        return 1
    bind.execute(sa.text("UPDATE counters SET value = :v WHERE name = 'change'"),
                 {"v": value + 1})
    return value + 1


def _remove_hostile_answers(bind) -> None:
    # A migration has no app clock: the real one (fieldapp.core.clock), stored as naive UTC.
    now = Clock().now().replace(tzinfo=None)
    events = sa.table("job_events", sa.column("job_id", sa.String), sa.column("type", sa.String),
                      sa.column("data", sa.JSON), sa.column("server_at", sa.DateTime))
    touched = set()
    for answer_id, value in list(_json_rows(bind, "checklist_answers", "value", UNSEALED)):
        problem = _problem(value)
        if problem is None:
            continue
        job_id, item_key = bind.execute(sa.text(
            "SELECT job_id, item_key FROM checklist_answers WHERE id = :id"),
            {"id": answer_id}).one()
        bind.execute(sa.text("DELETE FROM checklist_answers WHERE id = :id"), {"id": answer_id})
        bind.execute(events.insert().values(
            job_id=job_id, type="answer_removed", server_at=now,
            data={"item_key": item_key, "reason": "invalid_value", "problem": problem,
                  "by": "migration 3f9c2a7d51e0"}))
        touched.add(job_id)
    for job_id in sorted(touched):
        bind.execute(sa.text("UPDATE jobs SET change_seq = :seq, updated_at = :now "
                             "WHERE id = :id"),
                     {"seq": _next_change(bind), "now": now, "id": job_id})


def upgrade():
    op.create_table('blob_uploads',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('sha256', 'user_id')
    )
    op.execute("INSERT INTO blob_uploads (sha256, user_id, uploaded_at) "
               "SELECT sha256, uploaded_by_id, created_at FROM blobs "
               "WHERE uploaded_by_id IS NOT NULL")

    bind = op.get_bind()
    _remove_hostile_answers(bind)
    for table, column, where in CLEANED_IN_PLACE:
        for row_id, value in list(_json_rows(bind, table, column, where)):
            if _problem(value) is not None:
                _set_json(bind, table, column, row_id, _clean(value))


def downgrade():
    # The repaired values are not put back: they were what made pulls fail.
    op.drop_table('blob_uploads')

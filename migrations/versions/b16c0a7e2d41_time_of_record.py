"""time of record: when things happened beside when they arrived; photo.remove; the phone's
self-report (issue 16)

Revision ID: b16c0a7e2d41
Revises: a3c5e7f9b214
Create Date: 2026-12-03 09:40:00

Backfill, from the audit trail: an event's `at` is the phone's raw clock where it had one
(the clock offset of older pushes is unknown, so taken as zero), never after the server
received it and never before the job's previous move; office events keep the server's time.
Jobs get `arrived_at` (first move to on_site), `work_started_at` (first move to in_progress,
it was the arrival before) and `completed_at` (latest move to completed) from those events;
answers, photos, signatures and notes get the `at` of the event that recorded them. A sealed
(approved) job keeps its sealed `work_started_at` and `completed_at`: its seal covers them.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b16c0a7e2d41'
down_revision = 'a3c5e7f9b214'
branch_labels = None
depends_on = None

MOVES = ("status", "assigned", "unassigned")

events = sa.table("job_events", sa.column("id", sa.Integer), sa.column("job_id", sa.String),
                  sa.column("type", sa.String), sa.column("data", sa.JSON),
                  sa.column("server_at", sa.DateTime), sa.column("device_at", sa.DateTime),
                  sa.column("at", sa.DateTime))
jobs = sa.table("jobs", sa.column("id", sa.String), sa.column("created_at", sa.DateTime),
                sa.column("arrived_at", sa.DateTime), sa.column("work_started_at", sa.DateTime),
                sa.column("completed_at", sa.DateTime))
seals = sa.table("seals", sa.column("job_id", sa.String))
answers = sa.table("checklist_answers", sa.column("job_id", sa.String),
                   sa.column("item_key", sa.String), sa.column("at", sa.DateTime),
                   sa.column("answered_at", sa.DateTime))
photos = sa.table("photos", sa.column("id", sa.String), sa.column("at", sa.DateTime),
                  sa.column("device_at", sa.DateTime), sa.column("created_at", sa.DateTime))
signatures = sa.table("signatures", sa.column("id", sa.String), sa.column("at", sa.DateTime),
                      sa.column("created_at", sa.DateTime))
notes = sa.table("notes", sa.column("id", sa.String), sa.column("at", sa.DateTime),
                 sa.column("created_at", sa.DateTime))


def upgrade():
    op.add_column('devices', sa.Column('client', sa.JSON(), nullable=True))
    op.add_column('devices', sa.Column('clock_offset_ms', sa.BigInteger(), nullable=True))
    op.add_column('jobs', sa.Column('arrived_at', sa.DateTime(), nullable=True))
    op.add_column('checklist_answers', sa.Column('at', sa.DateTime(), nullable=True))
    op.add_column('photos', sa.Column('at', sa.DateTime(), nullable=True))
    op.add_column('photos', sa.Column('device_at', sa.DateTime(), nullable=True))
    op.add_column('photos', sa.Column('removed_at', sa.DateTime(), nullable=True))
    op.add_column('signatures', sa.Column('at', sa.DateTime(), nullable=True))
    op.add_column('notes', sa.Column('at', sa.DateTime(), nullable=True))
    op.add_column('job_events', sa.Column('at', sa.DateTime(), nullable=True))
    _backfill(op.get_bind())


def _backfill(conn):
    created = dict(conn.execute(sa.select(jobs.c.id, jobs.c.created_at)).all())
    sealed = set(conn.execute(sa.select(seals.c.job_id)).scalars())
    event_at, job_times = [], {}
    answer_at, photo_at, signature_at, note_at = [], [], [], []
    floor, floor_job = None, None
    for e in conn.execute(sa.select(events).order_by(events.c.job_id, events.c.id)):
        if e.job_id != floor_job:
            floor, floor_job = created.get(e.job_id), e.job_id
        at = e.device_at if e.device_at is not None and e.device_at < e.server_at \
            else e.server_at
        if floor is not None and at < floor:
            at = min(floor, e.server_at)
        event_at.append({"event_id": e.id, "new_at": at})
        data = e.data or {}
        times = job_times.setdefault(e.job_id, {})
        if e.type in MOVES:
            floor = at
        if e.type == "status":
            if data.get("to") == "on_site":
                times.setdefault("arrived_at", at)
            elif data.get("to") == "in_progress":
                times.setdefault("work_started_at", at)
            elif data.get("to") == "completed":
                times["completed_at"] = at
        elif e.type == "answer" and data.get("item_key"):
            answer_at.append({"job": e.job_id, "key": data["item_key"], "new_at": at})
        elif e.type == "photo" and data.get("photo_id"):
            photo_at.append({"row": data["photo_id"], "new_at": at, "raw": e.device_at})
        elif e.type == "signature" and data.get("signature_id"):
            signature_at.append({"row": data["signature_id"], "new_at": at})
        elif e.type == "note" and data.get("note_id"):
            note_at.append({"row": data["note_id"], "new_at": at})

    def run(statement, rows):
        if rows:
            conn.execute(statement, rows)

    run(events.update().where(events.c.id == sa.bindparam("event_id"))
        .values(at=sa.bindparam("new_at")), event_at)
    run(answers.update().where(answers.c.job_id == sa.bindparam("job"),
                               answers.c.item_key == sa.bindparam("key"))
        .values(at=sa.bindparam("new_at")), answer_at)  # the last answer event wins
    run(photos.update().where(photos.c.id == sa.bindparam("row"))
        .values(at=sa.bindparam("new_at"), device_at=sa.bindparam("raw")), photo_at)
    run(signatures.update().where(signatures.c.id == sa.bindparam("row"))
        .values(at=sa.bindparam("new_at")), signature_at)
    run(notes.update().where(notes.c.id == sa.bindparam("row"))
        .values(at=sa.bindparam("new_at")), note_at)
    for job_id, times in job_times.items():
        values = {"arrived_at": times.get("arrived_at")}
        if job_id not in sealed:
            values["work_started_at"] = times.get("work_started_at")
            values["completed_at"] = times.get("completed_at")
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))
    # Rows no event names (made outside the trail): the server's time.
    for table, received in ((answers, answers.c.answered_at), (photos, photos.c.created_at),
                            (signatures, signatures.c.created_at), (notes, notes.c.created_at)):
        conn.execute(table.update().where(table.c.at.is_(None)).values(at=received))


def downgrade():
    for table, columns in (('job_events', ['at']), ('notes', ['at']), ('signatures', ['at']),
                           ('photos', ['removed_at', 'device_at', 'at']),
                           ('checklist_answers', ['at']), ('jobs', ['arrived_at']),
                           ('devices', ['clock_offset_ms', 'client'])):
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_column(column)

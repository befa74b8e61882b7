"""device revocation by the office (issue 20): who revoked a device, and its audit trail

Revision ID: d20a1c5e9b47
Revises: c4e1a9d27b53
Create Date: 2026-12-03 19:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd20a1c5e9b47'
down_revision = 'c4e1a9d27b53'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # Not batch mode: it re-creates `devices`, and dropping the old table fails while
        # mutations and phones' rows refer to it (foreign keys are on). SQLite adds a
        # nullable column with its reference in place.
        op.execute('ALTER TABLE devices ADD COLUMN revoked_by_id INTEGER REFERENCES users (id)')
    else:
        op.add_column('devices', sa.Column('revoked_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_devices_revoked_by_id_users', 'devices', 'users',
                              ['revoked_by_id'], ['id'])
    op.create_table(
        'device_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject_id', sa.String(length=36), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_role', sa.String(length=16), nullable=True),
        sa.Column('device_id', sa.String(length=36), nullable=True),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('server_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id']),
        sa.ForeignKeyConstraint(['subject_id'], ['devices.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_device_events_subject_id', 'device_events', ['subject_id'])


def downgrade():
    op.drop_index('ix_device_events_subject_id', table_name='device_events')
    op.drop_table('device_events')
    if op.get_bind().dialect.name == 'sqlite':
        # The reference was made in place and unnamed: the re-created table leaves it out.
        with op.batch_alter_table('devices') as batch:
            batch.drop_column('revoked_by_id')
    else:
        op.drop_constraint('fk_devices_revoked_by_id_users', 'devices', type_='foreignkey')
        op.drop_column('devices', 'revoked_by_id')

"""server-side web sessions: sign-out, idle and lifetime end a session for good

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 04:10:00

One row per completed sign-in (back office or portal), found by the SHA-256 of
the random token in the session cookie. A plain table on both databases: the
kinds and end reasons are VARCHAR with CHECK constraints, as elsewhere.
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('staff', 'portal', name='web_session_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('portal_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sa.Enum('signed_out', 'signed_out_everywhere', 'password_changed', 'idle', 'lifetime', name='web_session_end', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.Column('source_ip', sa.String(length=45), nullable=True),
    sa.CheckConstraint("(kind = 'staff' AND staff_user_id IS NOT NULL AND portal_user_id IS NULL) OR (kind = 'portal' AND portal_user_id IS NOT NULL AND staff_user_id IS NULL)", name=op.f('ck_web_sessions_one_user_of_its_kind')),
    sa.CheckConstraint('(ended_at IS NULL) = (end_reason IS NULL)', name=op.f('ck_web_sessions_ended_with_a_reason')),
    sa.ForeignKeyConstraint(['portal_user_id'], ['portal_users.id'], name=op.f('fk_web_sessions_portal_user_id_portal_users')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_web_sessions_staff_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_portal_user_id'), ['portal_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_web_sessions_staff_user_id'), ['staff_user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_staff_user_id'))
        batch_op.drop_index(batch_op.f('ix_web_sessions_portal_user_id'))

    op.drop_table('web_sessions')

"""staff limit changes (who set every limit, second admin above the ceiling) and first-sign-in password change

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 04:10:00

staff_users.must_change_password: a temporary password given by an administrator
must be replaced by its owner at sign-in. Existing staff are not flagged (their
passwords were chosen before this flag existed; an administrator can reset any
of them, which flags it). staff_limit_changes: every change to someone's
delegated limits, with who asked and who approved.
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_limit_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('refund_limit_before_pence', sa.Integer(), nullable=True),
    sa.Column('write_off_limit_before_pence', sa.Integer(), nullable=True),
    sa.Column('refund_limit_pence', sa.Integer(), nullable=False),
    sa.Column('write_off_limit_pence', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'applied', 'rejected', 'cancelled', name='staff_limit_change_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('refund_limit_pence >= 0', name=op.f('ck_staff_limit_changes_refund_limit_not_negative')),
    sa.CheckConstraint('write_off_limit_pence >= 0', name=op.f('ck_staff_limit_changes_write_off_limit_not_negative')),
    sa.CheckConstraint('decided_by_id IS NULL OR decided_by_id <> requested_by_id', name=op.f('ck_staff_limit_changes_decided_by_someone_else')),
    sa.CheckConstraint("status = 'pending' OR decided_at IS NOT NULL", name=op.f('ck_staff_limit_changes_decided_when_not_pending')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_staff_limit_changes_staff_user_id_staff_users')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff_users.id'], name=op.f('fk_staff_limit_changes_requested_by_id_staff_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['staff_users.id'], name=op.f('fk_staff_limit_changes_decided_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_limit_changes'))
    )
    with op.batch_alter_table('staff_limit_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_limit_changes_staff_user_id'), ['staff_user_id'], unique=False)

    # A plain ALTER TABLE ADD COLUMN on both databases, not batch mode: with an
    # expression default batch mode copies staff_users on SQLite, and dropping
    # the old copy fails once other rows point at it (see 0004).
    op.add_column('staff_users', sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite (3.35+) drops a plain column in place; batch mode would copy
        # staff_users and fail to drop the old copy while rows point at it.
        op.execute('ALTER TABLE staff_users DROP COLUMN must_change_password')
    else:
        with op.batch_alter_table('staff_users', schema=None) as batch_op:
            batch_op.drop_column('must_change_password')

    with op.batch_alter_table('staff_limit_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_limit_changes_staff_user_id'))

    op.drop_table('staff_limit_changes')

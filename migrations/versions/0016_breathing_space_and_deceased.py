"""breathing space end of crisis treatment; deceased details; portal access that ends

Account holds record when a mental health crisis Breathing Space's treatment ended,
and a deceased hold the date of death and the personal representative's details.
Portal links to an account end (kept for the record) when its debtor dies.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 04:10:00
"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the tables portal_user_accounts refers to, and
    SQLAlchemy warns that it cannot reflect their expression indexes (not needed)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        yield


def upgrade():
    with _quiet_reflection(), op.batch_alter_table('account_holds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crisis_treatment_ended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('date_of_death', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('representative_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('representative_capacity', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('representative_address', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('representative_phone', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('representative_email', sa.String(length=254), nullable=True))

    with _quiet_reflection(), op.batch_alter_table('portal_user_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('access_ended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('access_ended_by_hold_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_portal_user_accounts_access_ended_by_hold_id_account_holds'), 'account_holds', ['access_ended_by_hold_id'], ['id'])


def downgrade():
    with _quiet_reflection(), op.batch_alter_table('portal_user_accounts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_portal_user_accounts_access_ended_by_hold_id_account_holds'), type_='foreignkey')
        batch_op.drop_column('access_ended_by_hold_id')
        batch_op.drop_column('access_ended_at')

    with _quiet_reflection(), op.batch_alter_table('account_holds', schema=None) as batch_op:
        batch_op.drop_column('representative_email')
        batch_op.drop_column('representative_phone')
        batch_op.drop_column('representative_address')
        batch_op.drop_column('representative_capacity')
        batch_op.drop_column('representative_name')
        batch_op.drop_column('date_of_death')
        batch_op.drop_column('crisis_treatment_ended_on')

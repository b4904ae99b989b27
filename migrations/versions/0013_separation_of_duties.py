"""separation of duties: credit-note requests, running-total index, payment verification

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 04:10:00

Credit notes go through the approval workflow like write-offs (approval kind
"credit_note": only the kind's CHECK constraint changes, and "credit_note" fits the
existing VARCHAR(11)); every request records the ledger entry it posted (so who
asked for and approved a credit note is known when its credit is refunded); an
index serves the running total per officer, account and kind; and hand-recorded
payments that leave credit wait in payment_verifications for a second person.
"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

OLD_KINDS = ('refund', 'write_off', 'arrangement')
NEW_KINDS = ('refund', 'write_off', 'arrangement', 'credit_note')


def _kind(values):
    return sa.Enum(*values, name='approval_kind', native_enum=False, create_constraint=True)


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the tables these refer to, and SQLAlchemy warns
    that it cannot reflect their expression indexes (which it does not need)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        yield


def _set_kinds(batch_op, old, new):
    batch_op.drop_constraint(op.f('ck_approval_requests_approval_kind'), type_='check')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot alter a constraint: batch mode rebuilds the table with the new type.
        batch_op.alter_column('kind', existing_type=_kind(old), type_=_kind(new), existing_nullable=False)
    else:
        batch_op.create_check_constraint(
            op.f('ck_approval_requests_approval_kind'), sa.column('kind').in_(new)
        )


def upgrade():
    with _quiet_reflection():
        _upgrade()


def downgrade():
    # Credit-note requests cannot be expressed in the old schema: refuse rather than lose them.
    count = op.get_bind().execute(
        sa.text("SELECT count(*) FROM approval_requests WHERE kind = 'credit_note'")
    ).scalar()
    if count:
        raise RuntimeError(f"{count} credit-note approval requests exist; cannot downgrade past 0013")
    with _quiet_reflection():
        _downgrade()


def _upgrade():
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        _set_kinds(batch_op, OLD_KINDS, NEW_KINDS)
        batch_op.add_column(sa.Column('ledger_entry_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_approval_requests_running_total', ['requested_by_staff_id', 'account_id', 'kind', 'requested_at'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_approval_requests_ledger_entry_id'), ['ledger_entry_id'])
        batch_op.create_foreign_key(batch_op.f('fk_approval_requests_ledger_entry_id_ledger_entries'), 'ledger_entries', ['ledger_entry_id'], ['id'])

    op.create_table('payment_verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by_staff_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('unverified', 'verified', name='verification_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('verified_via', sa.Enum('officer', 'bank_statement', name='verified_via', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('verified_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('statement_reference', sa.String(length=100), nullable=True),
    sa.Column('verified_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status = 'unverified' OR (verified_at IS NOT NULL AND verified_via IS NOT NULL)", name=op.f('ck_payment_verifications_verified_says_how')),
    sa.CheckConstraint('verified_by_staff_id IS NULL OR verified_by_staff_id <> recorded_by_staff_id', name=op.f('ck_payment_verifications_not_self_verified')),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_payment_verifications_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_payment_verifications_ledger_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['recorded_by_staff_id'], ['staff_users.id'], name=op.f('fk_payment_verifications_recorded_by_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['verified_by_staff_id'], ['staff_users.id'], name=op.f('fk_payment_verifications_verified_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_verifications')),
    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_payment_verifications_ledger_entry_id'))
    )
    with op.batch_alter_table('payment_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_verifications_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_payment_verifications_status_created', ['status', 'created_at'], unique=False)


def _downgrade():
    with op.batch_alter_table('payment_verifications', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_verifications_status_created')
        batch_op.drop_index(batch_op.f('ix_payment_verifications_account_id'))
    op.drop_table('payment_verifications')

    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_approval_requests_ledger_entry_id_ledger_entries'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_approval_requests_ledger_entry_id'), type_='unique')
        batch_op.drop_index('ix_approval_requests_running_total')
        batch_op.drop_column('ledger_entry_id')
        _set_kinds(batch_op, NEW_KINDS, OLD_KINDS)

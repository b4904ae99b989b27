"""webhook cross checks: refused card events and checkout status "refused"

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 04:10:00

A provider event that says a checkout was paid, but with another amount or
currency than the checkout's, is refused: nothing is posted, the checkout moves
to "refused" and the event is kept in refused_card_events for an officer.
"refused" fits the status column's existing VARCHAR(10); only its CHECK changes.
"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OLD = ('created', 'opening', 'open', 'processing', 'paid', 'failed', 'expired', 'error')
NEW = OLD + ('refused',)


def _status(values):
    return sa.Enum(*values, name='checkout_status', native_enum=False, create_constraint=True)


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the tables card_checkouts refers to, and SQLAlchemy
    warns that it cannot reflect their expression indexes (which it does not need)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        yield


def _set_statuses(old, new):
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot alter a constraint: batch mode rebuilds the table with the new type.
        with _quiet_reflection(), op.batch_alter_table('card_checkouts', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_card_checkouts_checkout_status'), type_='check')
            batch_op.alter_column(
                'status', existing_type=_status(old), type_=_status(new), existing_nullable=False
            )
        return
    op.drop_constraint(op.f('ck_card_checkouts_checkout_status'), 'card_checkouts', type_='check')
    op.create_check_constraint(
        op.f('ck_card_checkouts_checkout_status'), 'card_checkouts', sa.column('status').in_(new)
    )


def upgrade():
    op.create_table('refused_card_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('checkout_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('expected_amount_pence', sa.Integer(), nullable=False),
    sa.Column('expected_currency', sa.String(length=3), nullable=False),
    sa.Column('reported_amount_pence', sa.BigInteger(), nullable=True),
    sa.Column('reported_currency', sa.String(length=10), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_refused_card_events_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['checkout_id'], ['card_checkouts.id'], name=op.f('fk_refused_card_events_checkout_id_card_checkouts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refused_card_events')),
    sa.UniqueConstraint('provider', 'event_id', name=op.f('uq_refused_card_events_provider_event_id'))
    )
    with op.batch_alter_table('refused_card_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refused_card_events_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refused_card_events_checkout_id'), ['checkout_id'], unique=False)
        batch_op.create_index('ix_refused_card_events_received_at_id', ['received_at', 'id'], unique=False)

    _set_statuses(OLD, NEW)


def downgrade():
    # A refused checkout cannot be expressed in the old schema: refuse rather than lose it.
    count = op.get_bind().execute(
        sa.text("SELECT count(*) FROM card_checkouts WHERE status = 'refused'")
    ).scalar()
    if count:
        raise RuntimeError(f"{count} refused card checkouts exist; cannot downgrade past 0012")
    _set_statuses(NEW, OLD)

    with op.batch_alter_table('refused_card_events', schema=None) as batch_op:
        batch_op.drop_index('ix_refused_card_events_received_at_id')
        batch_op.drop_index(batch_op.f('ix_refused_card_events_checkout_id'))
        batch_op.drop_index(batch_op.f('ix_refused_card_events_account_id'))

    op.drop_table('refused_card_events')

"""card refunds go through the outbox: outbox channel "refund"

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 05:45:00

A card refund is an outbox row like an email or a text: written in the same
transaction as the ledger refund, then sent to the card provider by the worker,
claimed once, retried with backoff, and failed visibly. Only the channel's CHECK
constraint changes ("refund" fits the existing VARCHAR(6)).
"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OLD = ('email', 'sms', 'letter')
NEW = ('email', 'sms', 'letter', 'refund')


def _channel(values):
    return sa.Enum(*values, name='outbox_channel', native_enum=False, create_constraint=True)


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the tables the outbox refers to, and SQLAlchemy
    warns that it cannot reflect their expression indexes (which it does not need)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        yield


def _set_channels(old, new):
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot alter a constraint: batch mode rebuilds the table with the new type.
        with _quiet_reflection(), op.batch_alter_table('outbox_messages', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_outbox_messages_outbox_channel'), type_='check')
            batch_op.alter_column(
                'channel', existing_type=_channel(old), type_=_channel(new), existing_nullable=False
            )
        return
    op.drop_constraint(op.f('ck_outbox_messages_outbox_channel'), 'outbox_messages', type_='check')
    op.create_check_constraint(
        op.f('ck_outbox_messages_outbox_channel'),
        'outbox_messages',
        sa.column('channel').in_(new),
    )


def upgrade():
    _set_channels(OLD, NEW)


def downgrade():
    # Refund rows cannot be expressed in the old schema: refuse rather than lose them.
    bind = op.get_bind()
    count = bind.execute(
        sa.text("SELECT count(*) FROM outbox_messages WHERE channel = 'refund'")
    ).scalar()
    if count:
        raise RuntimeError(f"{count} card refund outbox rows exist; cannot downgrade past 0007")
    _set_channels(NEW, OLD)

"""unallocated payments work queue

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 06:30:00

One row per credit (payment, credit note, credit adjustment) that still has
money not applied to any invoice, so the back office can list them oldest
first without summing every payment's allocations (see
shared/services/unallocated.py). Not a financial record: rows are updated and
deleted as the ledger changes. The upgrade fills it from the ledger as it is.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Each credit's value less what is allocated from it, drawn from it (refunds,
# transfers out) and taken back by its reversal: the same figure as
# shared.services.balances.credit_values, grouped so it runs once over the book.
BACKFILL = """
INSERT INTO unallocated_credits (credit_entry_id, account_id, unallocated_pence, since, updated_at)
SELECT e.id, e.account_id,
       -e.amount_pence - COALESCE(a.s, 0) - COALESCE(d.s, 0) - COALESCE(r.s, 0),
       e.effective_date, :now
FROM ledger_entries e
LEFT JOIN (SELECT credit_entry_id AS id, SUM(amount_pence) AS s
           FROM allocations GROUP BY credit_entry_id) a ON a.id = e.id
LEFT JOIN (SELECT source_entry_id AS id, SUM(amount_pence) AS s
           FROM ledger_entries WHERE source_entry_id IS NOT NULL
           GROUP BY source_entry_id) d ON d.id = e.id
LEFT JOIN (SELECT reverses_entry_id AS id, SUM(amount_pence) AS s
           FROM ledger_entries WHERE reverses_entry_id IS NOT NULL
           GROUP BY reverses_entry_id) r ON r.id = e.id
WHERE (e.kind IN ('payment', 'credit_note', 'write_off')
       OR (e.kind = 'adjustment' AND e.amount_pence < 0))
  AND -e.amount_pence - COALESCE(a.s, 0) - COALESCE(d.s, 0) - COALESCE(r.s, 0) > 0
"""


def upgrade():
    op.create_table('unallocated_credits',
    sa.Column('credit_entry_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('unallocated_pence', sa.Integer(), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('unallocated_pence > 0', name=op.f('ck_unallocated_credits_unallocated_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_unallocated_credits_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['credit_entry_id'], ['ledger_entries.id'], name=op.f('fk_unallocated_credits_credit_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('credit_entry_id', name=op.f('pk_unallocated_credits'))
    )
    with op.batch_alter_table('unallocated_credits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unallocated_credits_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_unallocated_credits_since_credit_entry_id', ['since', 'credit_entry_id'], unique=False)

    # Naive UTC, as every datetime column is stored.
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.get_bind().execute(sa.text(BACKFILL).bindparams(sa.bindparam('now', now, type_=sa.DateTime())))


def downgrade():
    with op.batch_alter_table('unallocated_credits', schema=None) as batch_op:
        batch_op.drop_index('ix_unallocated_credits_since_credit_entry_id')
        batch_op.drop_index(batch_op.f('ix_unallocated_credits_account_id'))

    op.drop_table('unallocated_credits')

"""debtor accounts created and edited by officers (duplicate check)

Officers now create debtor accounts. Their references ("A" and eight digits, as the
demo's) come from document_sequences like invoice numbers, so the 'account' row is
added here: present from the start, so the first two creations at once both wait on
its row lock. The duplicate check looks accounts up by company number, so it gets
an index; not a unique one (two accounts may share a company in error, and the
check warns of it). No new tables, so nothing here is append-only: an account's
changes are kept in the audit log.

Not batch mode: rebuilding debtor_accounts on SQLite would lose its expression
indexes (migration 0005), and adding an index needs no rebuild.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

_SEQUENCES = sa.table('document_sequences', sa.column('name', sa.String), sa.column('next_value', sa.Integer))


def upgrade():
    op.bulk_insert(_SEQUENCES, [{'name': 'account', 'next_value': 1}])
    op.create_index(op.f('ix_debtor_accounts_company_number'), 'debtor_accounts', ['company_number'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_debtor_accounts_company_number'), table_name='debtor_accounts')
    op.execute(_SEQUENCES.delete().where(_SEQUENCES.c.name == 'account'))

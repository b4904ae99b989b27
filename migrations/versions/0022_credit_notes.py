"""credit-note documents with the lines and VAT they credit

A credit note is a numbered document ("CN" + eight digits, from document_sequences)
naming the invoice it credits, the ledger entry it posted (one note per entry) and,
line by line, the net and the VAT credited at the rate each line was charged. Both
tables are financial records: append-only, refused UPDATE and DELETE (and TRUNCATE
on PostgreSQL) by triggers like migration 0018's, using 0001's trigger function. A
note given in error is undone by reversing its ledger entry.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

CREDIT_NOTE_TABLES = ("credit_notes", "credit_note_lines")


def _create_append_only_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in CREDIT_NOTE_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_append_only()"
            )
        return
    for table in CREDIT_NOTE_TABLES:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
            )


def _drop_append_only_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in CREDIT_NOTE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        return
    for table in CREDIT_NOTE_TABLES:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def upgrade():
    op.create_table('credit_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=False),
    sa.Column('net_pence', sa.Integer(), nullable=False),
    sa.Column('vat_pence', sa.Integer(), nullable=False),
    sa.Column('total_pence', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('invoice_outstanding_pence', sa.Integer(), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('total_pence = net_pence + vat_pence', name=op.f('ck_credit_notes_total_is_net_plus_vat')),
    sa.CheckConstraint('total_pence > 0', name=op.f('ck_credit_notes_total_positive')),
    sa.CheckConstraint('net_pence >= 0 AND vat_pence >= 0', name=op.f('ck_credit_notes_parts_not_negative')),
    sa.CheckConstraint('invoice_outstanding_pence >= 0', name=op.f('ck_credit_notes_outstanding_not_negative')),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_credit_notes_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_credit_notes_created_by_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_credit_notes_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_credit_notes_ledger_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_credit_notes_ledger_entry_id')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_notes_number'))
    )
    op.create_index(op.f('ix_credit_notes_account_id'), 'credit_notes', ['account_id'], unique=False)
    op.create_index(op.f('ix_credit_notes_invoice_id'), 'credit_notes', ['invoice_id'], unique=False)
    op.create_table('credit_note_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_note_id', sa.Integer(), nullable=False),
    sa.Column('invoice_line_id', sa.Integer(), nullable=False),
    sa.Column('net_pence', sa.Integer(), nullable=False),
    sa.Column('vat_pence', sa.Integer(), nullable=False),
    sa.CheckConstraint('net_pence >= 0 AND vat_pence >= 0', name=op.f('ck_credit_note_lines_parts_not_negative')),
    sa.CheckConstraint('net_pence + vat_pence > 0', name=op.f('ck_credit_note_lines_credits_something')),
    sa.ForeignKeyConstraint(['credit_note_id'], ['credit_notes.id'], name=op.f('fk_credit_note_lines_credit_note_id_credit_notes')),
    sa.ForeignKeyConstraint(['invoice_line_id'], ['invoice_lines.id'], name=op.f('fk_credit_note_lines_invoice_line_id_invoice_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_note_lines')),
    sa.UniqueConstraint('credit_note_id', 'invoice_line_id', name=op.f('uq_credit_note_lines_credit_note_id_invoice_line_id'))
    )
    op.create_index(op.f('ix_credit_note_lines_invoice_line_id'), 'credit_note_lines', ['invoice_line_id'], unique=False)
    _create_append_only_triggers()


def downgrade():
    _drop_append_only_triggers()
    op.drop_index(op.f('ix_credit_note_lines_invoice_line_id'), table_name='credit_note_lines')
    op.drop_table('credit_note_lines')
    op.drop_index(op.f('ix_credit_notes_invoice_id'), table_name='credit_notes')
    op.drop_index(op.f('ix_credit_notes_account_id'), table_name='credit_notes')
    op.drop_table('credit_notes')

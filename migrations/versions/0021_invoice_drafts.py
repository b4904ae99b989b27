"""invoices raised by officers, the checking queue and issuing

An invoice is raised as a draft (invoice_drafts, with its lines); a draft that needs
checking (a service department's, or one above the raiser's invoice limit) waits in
the checking queue until a different officer issues it or returns it with a note.
Drafts are work in progress, not financial records, so they are not append-only: the
invoice and its ledger entry written on issue are. staff_limit_changes gains the
invoice limit, set and approved with the refund and write-off limits.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

DRAFT_STATUSES = ('draft', 'awaiting_check', 'returned', 'issued', 'cancelled')
VAT_RATES = ('standard', 'reduced', 'zero', 'exempt', 'outside_scope')


def upgrade():
    op.create_table('invoice_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('income_code_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('purchase_order', sa.String(length=40), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum(*DRAFT_STATUSES, name='invoice_draft_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('raised_by_staff_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('checked_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('return_note', sa.String(length=1000), nullable=True),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(status = 'issued') = (invoice_id IS NOT NULL)", name=op.f('ck_invoice_drafts_issued_names_its_invoice')),
    sa.CheckConstraint("status <> 'awaiting_check' OR submitted_at IS NOT NULL", name=op.f('ck_invoice_drafts_awaiting_check_was_submitted')),
    sa.CheckConstraint("status <> 'returned' OR return_note IS NOT NULL", name=op.f('ck_invoice_drafts_returned_with_a_note')),
    sa.CheckConstraint('checked_by_staff_id IS NULL OR checked_by_staff_id <> raised_by_staff_id', name=op.f('ck_invoice_drafts_checked_by_someone_else')),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_invoice_drafts_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['checked_by_staff_id'], ['staff_users.id'], name=op.f('fk_invoice_drafts_checked_by_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['department_id'], ['service_departments.id'], name=op.f('fk_invoice_drafts_department_id_service_departments')),
    sa.ForeignKeyConstraint(['income_code_id'], ['income_codes.id'], name=op.f('fk_invoice_drafts_income_code_id_income_codes')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_drafts_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['raised_by_staff_id'], ['staff_users.id'], name=op.f('fk_invoice_drafts_raised_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_drafts')),
    sa.UniqueConstraint('invoice_id', name=op.f('uq_invoice_drafts_invoice_id'))
    )
    op.create_index(op.f('ix_invoice_drafts_account_id'), 'invoice_drafts', ['account_id'], unique=False)
    op.create_index('ix_invoice_drafts_status_submitted', 'invoice_drafts', ['status', 'submitted_at'], unique=False)
    op.create_index('ix_invoice_drafts_raised_by_status', 'invoice_drafts', ['raised_by_staff_id', 'status'], unique=False)

    op.create_table('invoice_draft_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_pence', sa.Integer(), nullable=False),
    sa.Column('vat_rate', sa.Enum(*VAT_RATES, name='vat_rate', native_enum=False, create_constraint=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_invoice_draft_lines_quantity_positive')),
    sa.CheckConstraint('unit_price_pence >= 0', name=op.f('ck_invoice_draft_lines_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['draft_id'], ['invoice_drafts.id'], name=op.f('fk_invoice_draft_lines_draft_id_invoice_drafts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_draft_lines')),
    sa.UniqueConstraint('draft_id', 'line_no', name=op.f('uq_invoice_draft_lines_draft_id_line_no'))
    )

    # Not batch mode: adding nullable columns needs no rebuild on SQLite.
    op.add_column('staff_limit_changes', sa.Column('invoice_limit_before_pence', sa.Integer(), nullable=True))
    op.add_column('staff_limit_changes', sa.Column('invoice_limit_pence', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('staff_limit_changes', schema=None) as batch_op:
        batch_op.drop_column('invoice_limit_pence')
        batch_op.drop_column('invoice_limit_before_pence')
    op.drop_table('invoice_draft_lines')
    op.drop_index('ix_invoice_drafts_raised_by_status', table_name='invoice_drafts')
    op.drop_index('ix_invoice_drafts_status_submitted', table_name='invoice_drafts')
    op.drop_index(op.f('ix_invoice_drafts_account_id'), table_name='invoice_drafts')
    op.drop_table('invoice_drafts')

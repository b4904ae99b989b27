"""Direct Debit: mandates with encrypted bank details, advance notices, collections
for instalments and invoices, Standard 18 files, and the reports Bacs sends back

Until now `mandates` and `dd_collections` existed (0001) but nothing wrote to them,
and `mandates` would have held sort codes and account numbers in plain text. Both
are replaced: the new `mandates` keeps bank details only as a Fernet token under
BANK_DETAILS_ENCRYPTION_KEYS plus the last two digits of the account. Replacing
rather than altering keeps one code path for SQLite and PostgreSQL; the upgrade
refuses to run if either table has a row (none can, as nothing wrote them), so it
can never drop a mandate.

Partial unique indexes keep one live mandate per account, one file in play per
processing day, and one live collection per instalment.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def _refuse_if_rows(*tables):
    bind = op.get_bind()
    for table in tables:
        if bind.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
            raise RuntimeError(
                f"{table} has rows: this migration replaces the table and would lose them"
            )


def upgrade():
    _refuse_if_rows('dd_collections', 'mandates')
    with op.batch_alter_table('dd_collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dd_collections_mandate_id'))
        batch_op.drop_index(batch_op.f('ix_dd_collections_collection_date'))
    op.drop_table('dd_collections')
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mandates_account_id'))
    op.drop_table('mandates')

    op.create_table('bacs_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('serial_number', sa.Integer(), nullable=False),
    sa.Column('processing_day', sa.Date(), nullable=False),
    sa.Column('input_day', sa.Date(), nullable=False),
    sa.Column('entry_day', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('built', 'released', 'withdrawn', name='bacs_file_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('file_name', sa.String(length=80), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('instruction_count', sa.Integer(), nullable=False),
    sa.Column('debit_count', sa.Integer(), nullable=False),
    sa.Column('debit_total_pence', sa.Integer(), nullable=False),
    sa.Column('credit_count', sa.Integer(), nullable=False),
    sa.Column('credit_total_pence', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('built_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('built_at', sa.DateTime(), nullable=False),
    sa.Column('released_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('released_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawal_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint('debit_total_pence >= 0 AND credit_total_pence >= 0', name=op.f('ck_bacs_files_totals')),
    sa.CheckConstraint('serial_number BETWEEN 1 AND 999999', name=op.f('ck_bacs_files_serial_in_range')),
    sa.ForeignKeyConstraint(['built_by_staff_id'], ['staff_users.id'], name=op.f('fk_bacs_files_built_by_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['released_by_staff_id'], ['staff_users.id'], name=op.f('fk_bacs_files_released_by_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['withdrawn_by_staff_id'], ['staff_users.id'], name=op.f('fk_bacs_files_withdrawn_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bacs_files')),
    sa.UniqueConstraint('serial_number', name=op.f('uq_bacs_files_serial_number'))
    )
    with op.batch_alter_table('bacs_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bacs_files_processing_day'), ['processing_day'], unique=False)
        batch_op.create_index('uq_bacs_files_one_per_day', ['processing_day'], unique=True, sqlite_where=sa.text("status <> 'withdrawn'"), postgresql_where=sa.text("status <> 'withdrawn'"))

    op.create_table('bacs_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('auddis', 'arudd', 'addacs', 'ddic', name='bacs_report_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('report_date', sa.Date(), nullable=True),
    sa.Column('advice_number', sa.String(length=40), nullable=True),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('applied_count', sa.Integer(), nullable=False),
    sa.Column('routed_count', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('imported_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_staff_id'], ['staff_users.id'], name=op.f('fk_bacs_reports_imported_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bacs_reports')),
    sa.UniqueConstraint('sha256', name=op.f('uq_bacs_reports_sha256'))
    )
    op.create_table('mandates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=18), nullable=False),
    sa.Column('account_holder_name', sa.String(length=18), nullable=False),
    sa.Column('bank_details_encrypted', sa.Text(), nullable=False),
    sa.Column('account_ending', sa.String(length=2), nullable=False),
    sa.Column('modulus_outcome', sa.Enum('valid', 'could_not_check', name='modulus_outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('source', sa.Enum('portal', 'phone', 'paper', name='mandate_source', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('status', sa.Enum('pending_submission', 'submitted', 'active', 'cancelled', 'failed', name='mandate_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('collects_invoices', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('portal_user_id', sa.Integer(), nullable=True),
    sa.Column('taken_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('replaces_mandate_id', sa.Integer(), nullable=True),
    sa.Column('lodged_in_file_id', sa.Integer(), nullable=True),
    sa.Column('lodged_on', sa.Date(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('activated_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancellation_reason', sa.String(length=200), nullable=True),
    sa.Column('needs_cancel_instruction', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('cancel_in_file_id', sa.Integer(), nullable=True),
    sa.Column('collections_stopped_reason', sa.String(length=200), nullable=True),
    sa.Column('confirmation_message_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("source = 'portal' OR taken_by_staff_id IS NOT NULL", name=op.f('ck_mandates_staff_took_offline')),
    sa.CheckConstraint('length(account_ending) = 2', name=op.f('ck_mandates_account_ending_two_digits')),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_mandates_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['cancel_in_file_id'], ['bacs_files.id'], name=op.f('fk_mandates_cancel_in_file_id_bacs_files')),
    sa.ForeignKeyConstraint(['confirmation_message_id'], ['outbox_messages.id'], name=op.f('fk_mandates_confirmation_message_id_outbox_messages')),
    sa.ForeignKeyConstraint(['lodged_in_file_id'], ['bacs_files.id'], name=op.f('fk_mandates_lodged_in_file_id_bacs_files')),
    sa.ForeignKeyConstraint(['portal_user_id'], ['portal_users.id'], name=op.f('fk_mandates_portal_user_id_portal_users')),
    sa.ForeignKeyConstraint(['replaces_mandate_id'], ['mandates.id'], name=op.f('fk_mandates_replaces_mandate_id_mandates')),
    sa.ForeignKeyConstraint(['taken_by_staff_id'], ['staff_users.id'], name=op.f('fk_mandates_taken_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mandates')),
    sa.UniqueConstraint('reference', name=op.f('uq_mandates_reference'))
    )
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mandates_account_id'), ['account_id'], unique=False)
        batch_op.create_index('uq_mandates_one_live_per_account', ['account_id'], unique=True, sqlite_where=sa.text("status IN ('pending_submission', 'submitted', 'active')"), postgresql_where=sa.text("status IN ('pending_submission', 'submitted', 'active')"))

    op.create_table('dd_advance_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mandate_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('schedule', sa.JSON(), nullable=False),
    sa.Column('counts_from', sa.Date(), nullable=False),
    sa.Column('earliest_entry_day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_dd_advance_notices_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['mandate_id'], ['mandates.id'], name=op.f('fk_dd_advance_notices_mandate_id_mandates')),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_dd_advance_notices_message_id_outbox_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dd_advance_notices'))
    )
    with op.batch_alter_table('dd_advance_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dd_advance_notices_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dd_advance_notices_mandate_id'), ['mandate_id'], unique=False)

    op.create_table('dd_collections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mandate_id', sa.Integer(), nullable=False),
    sa.Column('instalment_id', sa.Integer(), nullable=True),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('transaction_code', sa.String(length=2), nullable=False),
    sa.Column('collection_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'submitted', 'collected', 'returned', 'cancelled', name='collection_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('advance_notice_id', sa.Integer(), nullable=True),
    sa.Column('bacs_file_id', sa.Integer(), nullable=True),
    sa.Column('represents_collection_id', sa.Integer(), nullable=True),
    sa.Column('payment_entry_id', sa.Integer(), nullable=True),
    sa.Column('reversal_entry_id', sa.Integer(), nullable=True),
    sa.Column('returned_at', sa.DateTime(), nullable=True),
    sa.Column('return_reason', sa.String(length=4), nullable=True),
    sa.Column('return_description', sa.String(length=200), nullable=True),
    sa.Column('cancelled_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("transaction_code IN ('01', '17', '18', '19')", name=op.f('ck_dd_collections_transaction_code_known')),
    sa.CheckConstraint('(instalment_id IS NULL) <> (invoice_id IS NULL)', name=op.f('ck_dd_collections_collects_one_thing')),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_dd_collections_amount_positive')),
    sa.ForeignKeyConstraint(['advance_notice_id'], ['dd_advance_notices.id'], name=op.f('fk_dd_collections_advance_notice_id_dd_advance_notices')),
    sa.ForeignKeyConstraint(['bacs_file_id'], ['bacs_files.id'], name=op.f('fk_dd_collections_bacs_file_id_bacs_files')),
    sa.ForeignKeyConstraint(['instalment_id'], ['instalments.id'], name=op.f('fk_dd_collections_instalment_id_instalments')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_dd_collections_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['mandate_id'], ['mandates.id'], name=op.f('fk_dd_collections_mandate_id_mandates')),
    sa.ForeignKeyConstraint(['payment_entry_id'], ['ledger_entries.id'], name=op.f('fk_dd_collections_payment_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['represents_collection_id'], ['dd_collections.id'], name=op.f('fk_dd_collections_represents_collection_id_dd_collections')),
    sa.ForeignKeyConstraint(['reversal_entry_id'], ['ledger_entries.id'], name=op.f('fk_dd_collections_reversal_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dd_collections'))
    )
    with op.batch_alter_table('dd_collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dd_collections_bacs_file_id'), ['bacs_file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dd_collections_collection_date'), ['collection_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_dd_collections_instalment_id'), ['instalment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dd_collections_invoice_id'), ['invoice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dd_collections_mandate_id'), ['mandate_id'], unique=False)
        batch_op.create_index('ix_dd_collections_status_date', ['status', 'collection_date'], unique=False)
        batch_op.create_index('uq_dd_collections_live_instalment', ['instalment_id'], unique=True, sqlite_where=sa.text("instalment_id IS NOT NULL AND status IN ('scheduled', 'submitted', 'collected')"), postgresql_where=sa.text("instalment_id IS NOT NULL AND status IN ('scheduled', 'submitted', 'collected')"))

    op.create_table('bacs_report_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=18), nullable=False),
    sa.Column('reason_code', sa.String(length=4), nullable=False),
    sa.Column('bacs_code', sa.String(length=8), nullable=True),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=True),
    sa.Column('original_processing_day', sa.Date(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('mandate_id', sa.Integer(), nullable=True),
    sa.Column('collection_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('needs_officer', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('resolved_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_bacs_report_items_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['collection_id'], ['dd_collections.id'], name=op.f('fk_bacs_report_items_collection_id_dd_collections')),
    sa.ForeignKeyConstraint(['mandate_id'], ['mandates.id'], name=op.f('fk_bacs_report_items_mandate_id_mandates')),
    sa.ForeignKeyConstraint(['report_id'], ['bacs_reports.id'], name=op.f('fk_bacs_report_items_report_id_bacs_reports')),
    sa.ForeignKeyConstraint(['resolved_by_staff_id'], ['staff_users.id'], name=op.f('fk_bacs_report_items_resolved_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bacs_report_items'))
    )
    with op.batch_alter_table('bacs_report_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bacs_report_items_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_bacs_report_items_queue', ['needs_officer', 'resolved_at', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bacs_report_items_report_id'), ['report_id'], unique=False)



def downgrade():
    _refuse_if_rows('dd_collections', 'mandates')
    with op.batch_alter_table('bacs_report_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bacs_report_items_report_id'))
        batch_op.drop_index('ix_bacs_report_items_queue')
        batch_op.drop_index(batch_op.f('ix_bacs_report_items_account_id'))

    op.drop_table('bacs_report_items')
    with op.batch_alter_table('dd_collections', schema=None) as batch_op:
        batch_op.drop_index('uq_dd_collections_live_instalment', sqlite_where=sa.text("instalment_id IS NOT NULL AND status IN ('scheduled', 'submitted', 'collected')"), postgresql_where=sa.text("instalment_id IS NOT NULL AND status IN ('scheduled', 'submitted', 'collected')"))
        batch_op.drop_index('ix_dd_collections_status_date')
        batch_op.drop_index(batch_op.f('ix_dd_collections_mandate_id'))
        batch_op.drop_index(batch_op.f('ix_dd_collections_invoice_id'))
        batch_op.drop_index(batch_op.f('ix_dd_collections_instalment_id'))
        batch_op.drop_index(batch_op.f('ix_dd_collections_collection_date'))
        batch_op.drop_index(batch_op.f('ix_dd_collections_bacs_file_id'))

    op.drop_table('dd_collections')
    with op.batch_alter_table('dd_advance_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dd_advance_notices_mandate_id'))
        batch_op.drop_index(batch_op.f('ix_dd_advance_notices_account_id'))

    op.drop_table('dd_advance_notices')
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.drop_index('uq_mandates_one_live_per_account', sqlite_where=sa.text("status IN ('pending_submission', 'submitted', 'active')"), postgresql_where=sa.text("status IN ('pending_submission', 'submitted', 'active')"))
        batch_op.drop_index(batch_op.f('ix_mandates_account_id'))

    op.drop_table('mandates')
    op.drop_table('bacs_reports')
    with op.batch_alter_table('bacs_files', schema=None) as batch_op:
        batch_op.drop_index('uq_bacs_files_one_per_day', sqlite_where=sa.text("status <> 'withdrawn'"), postgresql_where=sa.text("status <> 'withdrawn'"))
        batch_op.drop_index(batch_op.f('ix_bacs_files_processing_day'))

    op.drop_table('bacs_files')

    op.create_table('mandates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=18), nullable=False),
    sa.Column('account_holder_name', sa.String(length=18), nullable=False),
    sa.Column('sort_code', sa.String(length=6), nullable=False),
    sa.Column('account_number', sa.String(length=8), nullable=False),
    sa.Column('status', sa.Enum('pending_submission', 'submitted', 'active', 'cancelled', 'failed', name='mandate_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('activated_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancellation_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('length(account_number) = 8', name=op.f('ck_mandates_account_number_eight_digits')),
    sa.CheckConstraint('length(sort_code) = 6', name=op.f('ck_mandates_sort_code_six_digits')),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_mandates_account_id_debtor_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mandates')),
    sa.UniqueConstraint('reference', name=op.f('uq_mandates_reference'))
    )
    with op.batch_alter_table('mandates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mandates_account_id'), ['account_id'], unique=False)

    op.create_table('dd_collections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mandate_id', sa.Integer(), nullable=False),
    sa.Column('instalment_id', sa.Integer(), nullable=True),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('transaction_code', sa.String(length=2), nullable=False),
    sa.Column('collection_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'submitted', 'collected', 'returned', 'cancelled', name='collection_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('payment_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("transaction_code IN ('01', '17', '18', '19')", name=op.f('ck_dd_collections_transaction_code_known')),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_dd_collections_amount_positive')),
    sa.ForeignKeyConstraint(['instalment_id'], ['instalments.id'], name=op.f('fk_dd_collections_instalment_id_instalments')),
    sa.ForeignKeyConstraint(['mandate_id'], ['mandates.id'], name=op.f('fk_dd_collections_mandate_id_mandates')),
    sa.ForeignKeyConstraint(['payment_entry_id'], ['ledger_entries.id'], name=op.f('fk_dd_collections_payment_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dd_collections'))
    )
    with op.batch_alter_table('dd_collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dd_collections_collection_date'), ['collection_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_dd_collections_mandate_id'), ['mandate_id'], unique=False)

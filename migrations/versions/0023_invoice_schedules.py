"""periodic invoices: schedules on accounts, their lines, and each period raised

A schedule (weekly, monthly, quarterly or yearly; an end date, a count or neither) is
turned into invoices by the daily job. Each period raised is one invoice_schedule_runs
row, UNIQUE per (schedule, period date), so a period is invoiced once however many runs
overlap. A schedule's lines are fixed once made and its runs are a record of invoices
raised: both append-only, refused UPDATE and DELETE (and TRUNCATE on PostgreSQL) by
triggers like 0018's, using 0001's trigger function. The schedule row itself changes
(status, next period date), so it has none.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 11:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

APPEND_ONLY = ("invoice_schedule_lines", "invoice_schedule_runs")
VAT_RATES = ('standard', 'reduced', 'zero', 'exempt', 'outside_scope')


def _create_append_only_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION refuse_change_to_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION refuse_change_to_append_only()"
            )
        return
    for table in APPEND_ONLY:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END"
            )


def _drop_append_only_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        return
    for table in APPEND_ONLY:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation}")


def upgrade():
    op.create_table('invoice_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('income_code_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('purchase_order', sa.String(length=40), nullable=True),
    sa.Column('frequency', sa.Enum('weekly', 'monthly', 'quarterly', 'yearly', name='invoice_frequency', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('occurrences', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('active', 'ended', 'cancelled', name='invoice_schedule_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('next_period_date', sa.Date(), nullable=True),
    sa.Column('raised_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('cancelled_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.CheckConstraint('end_date IS NULL OR occurrences IS NULL', name=op.f('ck_invoice_schedules_end_date_or_count_not_both')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_invoice_schedules_end_after_start')),
    sa.CheckConstraint('occurrences IS NULL OR occurrences > 0', name=op.f('ck_invoice_schedules_occurrences_positive')),
    sa.CheckConstraint('raised_count >= 0', name=op.f('ck_invoice_schedules_raised_count_not_negative')),
    sa.CheckConstraint("(status = 'active') = (next_period_date IS NOT NULL)", name=op.f('ck_invoice_schedules_only_active_has_next_period')),
    sa.CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)", name=op.f('ck_invoice_schedules_cancelled_has_time')),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_invoice_schedules_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['cancelled_by_staff_id'], ['staff_users.id'], name=op.f('fk_invoice_schedules_cancelled_by_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_invoice_schedules_created_by_staff_id_staff_users')),
    sa.ForeignKeyConstraint(['department_id'], ['service_departments.id'], name=op.f('fk_invoice_schedules_department_id_service_departments')),
    sa.ForeignKeyConstraint(['income_code_id'], ['income_codes.id'], name=op.f('fk_invoice_schedules_income_code_id_income_codes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_schedules'))
    )
    op.create_index(op.f('ix_invoice_schedules_account_id'), 'invoice_schedules', ['account_id'], unique=False)
    op.create_index('ix_invoice_schedules_status_next', 'invoice_schedules', ['status', 'next_period_date'], unique=False)

    op.create_table('invoice_schedule_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_pence', sa.Integer(), nullable=False),
    sa.Column('vat_rate', sa.Enum(*VAT_RATES, name='vat_rate', native_enum=False, create_constraint=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_invoice_schedule_lines_quantity_positive')),
    sa.CheckConstraint('unit_price_pence >= 0', name=op.f('ck_invoice_schedule_lines_unit_price_not_negative')),
    sa.ForeignKeyConstraint(['schedule_id'], ['invoice_schedules.id'], name=op.f('fk_invoice_schedule_lines_schedule_id_invoice_schedules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_schedule_lines')),
    sa.UniqueConstraint('schedule_id', 'line_no', name=op.f('uq_invoice_schedule_lines_schedule_id_line_no'))
    )

    op.create_table('invoice_schedule_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('period_date', sa.Date(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('sequence > 0', name=op.f('ck_invoice_schedule_runs_sequence_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_invoice_schedule_runs_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['schedule_id'], ['invoice_schedules.id'], name=op.f('fk_invoice_schedule_runs_schedule_id_invoice_schedules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_schedule_runs')),
    sa.UniqueConstraint('invoice_id', name=op.f('uq_invoice_schedule_runs_invoice_id')),
    sa.UniqueConstraint('schedule_id', 'period_date', name='uq_invoice_schedule_run_period'),
    sa.UniqueConstraint('schedule_id', 'sequence', name='uq_invoice_schedule_run_sequence')
    )
    _create_append_only_triggers()


def downgrade():
    _drop_append_only_triggers()
    op.drop_table('invoice_schedule_runs')
    op.drop_table('invoice_schedule_lines')
    op.drop_index('ix_invoice_schedules_status_next', table_name='invoice_schedules')
    op.drop_index(op.f('ix_invoice_schedules_account_id'), table_name='invoice_schedules')
    op.drop_table('invoice_schedules')

"""debt in: income codes, dated VAT rates, document numbers, finance customer ids,
payment terms, the service-department role and officers' invoice limits

Income codes are kept per department by an administrator and named on each invoice;
the general-ledger journal sums by them. VAT rates are dated so an invoice charges
the rate in force on its tax point, and each line keeps the rate it was charged at
(existing lines are filled in from their rate: nothing before this migration was
charged anything but today's rates). Invoice and credit-note numbers come from
document_sequences under a row lock.

SQLite cannot alter a CHECK constraint, so staff_users is rebuilt in batch mode for
the new role; migrations/env.py turns SQLite's foreign-key enforcement off while
migrations run (the rebuild drops a table other tables refer to) and checks every
foreign key afterwards.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 10:40:00
"""
import warnings
from contextlib import contextmanager
from datetime import date, datetime

from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

OLD_ROLES = ('officer', 'team_leader', 'admin', 'auditor')
NEW_ROLES = (*OLD_ROLES, 'service_department')
VAT_RATES = ('standard', 'reduced', 'zero', 'exempt', 'outside_scope')

# The UK rates in force since 1991 (HMRC VAT rates history). Councils add later
# changes from the back office with the date they start.
VAT_HISTORY = (
    ('standard', date(1991, 4, 1), 1750),
    ('standard', date(2008, 12, 1), 1500),
    ('standard', date(2010, 1, 1), 1750),
    ('standard', date(2011, 1, 4), 2000),
    ('reduced', date(1997, 9, 1), 500),
    ('zero', date(1973, 4, 1), 0),
    ('exempt', date(1973, 4, 1), 0),
    ('outside_scope', date(1973, 4, 1), 0),
)


@contextmanager
def _quiet_reflection():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        yield


def _role(values):
    return sa.Enum(*values, name='staff_role', native_enum=False, create_constraint=True)


def _set_roles(batch_op, old, new):
    batch_op.drop_constraint(op.f('ck_staff_users_staff_role'), type_='check')
    if op.get_bind().dialect.name == "sqlite":
        batch_op.alter_column('role', existing_type=_role(old), type_=_role(new), existing_nullable=False)
    else:
        width = max(len(role) for role in new)
        batch_op.alter_column('role', existing_type=sa.String(max(len(r) for r in old)), type_=sa.String(width), existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_staff_users_staff_role'), sa.column('role').in_(new))


def upgrade():
    op.create_table('income_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('description', sa.String(length=120), nullable=False),
    sa.Column('cost_centre', sa.String(length=20), nullable=False),
    sa.Column('ledger_code', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['service_departments.id'], name=op.f('fk_income_codes_department_id_service_departments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_codes')),
    sa.UniqueConstraint('department_id', 'code', name=op.f('uq_income_codes_department_id_code'))
    )
    vat = op.create_table('vat_rate_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rate', sa.Enum(*VAT_RATES, name='vat_rate', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('basis_points', sa.Integer(), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('basis_points BETWEEN 0 AND 10000', name=op.f('ck_vat_rate_periods_basis_points_in_range')),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_vat_rate_periods_created_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vat_rate_periods')),
    sa.UniqueConstraint('rate', 'valid_from', name=op.f('uq_vat_rate_periods_rate_valid_from'))
    )
    op.bulk_insert(vat, [
        {'rate': rate, 'valid_from': start, 'basis_points': bp, 'created_at': datetime(2026, 12, 7)}
        for rate, start, bp in VAT_HISTORY
    ])
    sequences = op.create_table('document_sequences',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('next_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_document_sequences'))
    )
    # Present from the start, so the first two issues at once both wait on the row lock.
    op.bulk_insert(sequences, [{'name': 'invoice', 'next_value': 1}, {'name': 'credit_note', 'next_value': 1}])

    with _quiet_reflection():
        # Not batch mode: rebuilding debtor_accounts on SQLite would lose its expression
        # indexes (migration 0005), and adding a column and an index needs no rebuild.
        op.add_column('debtor_accounts', sa.Column('finance_customer_id', sa.String(length=40), nullable=True))
        op.create_index('uq_debtor_accounts_finance_customer_id', 'debtor_accounts', ['finance_customer_id'], unique=True)
        with op.batch_alter_table('service_departments', schema=None) as batch_op:
            batch_op.add_column(sa.Column('payment_terms_days', sa.Integer(), server_default='30', nullable=False))
            batch_op.create_check_constraint(op.f('ck_service_departments_payment_terms_days_in_range'), 'payment_terms_days BETWEEN 0 AND 365')
        with op.batch_alter_table('staff_users', schema=None) as batch_op:
            _set_roles(batch_op, OLD_ROLES, NEW_ROLES)
            batch_op.add_column(sa.Column('invoice_limit_pence', sa.Integer(), server_default='0', nullable=False))
            batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_staff_users_department_id_service_departments'), 'service_departments', ['department_id'], ['id'])
            batch_op.create_check_constraint(op.f('ck_staff_users_invoice_limit_not_negative'), 'invoice_limit_pence >= 0')
            batch_op.create_check_constraint(op.f('ck_staff_users_service_department_user_has_department'), "role <> 'service_department' OR department_id IS NOT NULL")
        with op.batch_alter_table('invoices', schema=None) as batch_op:
            batch_op.add_column(sa.Column('income_code_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('purchase_order', sa.String(length=40), nullable=True))
            batch_op.create_index(batch_op.f('ix_invoices_income_code_id'), ['income_code_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f('fk_invoices_income_code_id_income_codes'), 'income_codes', ['income_code_id'], ['id'])
        with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
            batch_op.add_column(sa.Column('vat_basis_points', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE invoice_lines SET vat_basis_points = CASE vat_rate "
        "WHEN 'standard' THEN 2000 WHEN 'reduced' THEN 500 ELSE 0 END"
    )


def downgrade():
    with _quiet_reflection():
        with op.batch_alter_table('invoice_lines', schema=None) as batch_op:
            batch_op.drop_column('vat_basis_points')
        with op.batch_alter_table('invoices', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('fk_invoices_income_code_id_income_codes'), type_='foreignkey')
            batch_op.drop_index(batch_op.f('ix_invoices_income_code_id'))
            batch_op.drop_column('purchase_order')
            batch_op.drop_column('income_code_id')
        count = op.get_bind().execute(
            sa.text("SELECT count(*) FROM staff_users WHERE role = 'service_department'")
        ).scalar()
        if count:
            raise RuntimeError(f"{count} service-department users exist; cannot downgrade past 0019")
        with op.batch_alter_table('staff_users', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('ck_staff_users_service_department_user_has_department'), type_='check')
            batch_op.drop_constraint(batch_op.f('ck_staff_users_invoice_limit_not_negative'), type_='check')
            batch_op.drop_constraint(batch_op.f('fk_staff_users_department_id_service_departments'), type_='foreignkey')
            batch_op.drop_column('department_id')
            batch_op.drop_column('invoice_limit_pence')
            _set_roles(batch_op, NEW_ROLES, OLD_ROLES)
        with op.batch_alter_table('service_departments', schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f('ck_service_departments_payment_terms_days_in_range'), type_='check')
            batch_op.drop_column('payment_terms_days')
        op.drop_index('uq_debtor_accounts_finance_customer_id', table_name='debtor_accounts')
        op.drop_column('debtor_accounts', 'finance_customer_id')
    op.drop_table('document_sequences')
    op.drop_table('vat_rate_periods')
    op.drop_table('income_codes')

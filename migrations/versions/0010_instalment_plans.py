"""instalment plans: policy, income and expenditure, lifecycle and monitoring

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 06:20:00

Plan policy per service department, income and expenditure statements, and the
columns the plan lifecycle (counter-offers, decisions, break review) and the
daily monitor (what each instalment has been paid) need.
"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


@contextmanager
def _quiet_reflection():
    """SQLite's batch mode reflects the tables these refer to, and SQLAlchemy warns
    that it cannot reflect their expression indexes (which it does not need)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        yield


def upgrade():
    with _quiet_reflection():
        _upgrade()


def downgrade():
    with _quiet_reflection():
        _downgrade()


def _upgrade():
    op.create_table('income_expenditure_statements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('portal_user_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_income_expenditure_statements_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['portal_user_id'], ['portal_users.id'], name=op.f('fk_income_expenditure_statements_portal_user_id_portal_users')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_users.id'], name=op.f('fk_income_expenditure_statements_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_expenditure_statements'))
    )
    with op.batch_alter_table('income_expenditure_statements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_income_expenditure_statements_account_id'), ['account_id'], unique=False)

    op.create_table('plan_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('max_length_months', sa.Integer(), nullable=False),
    sa.Column('min_instalment_pence', sa.Integer(), nullable=False),
    sa.Column('max_auto_approve_pence', sa.Integer(), nullable=False),
    sa.Column('no_broken_plan_within_months', sa.Integer(), nullable=False),
    sa.Column('refer_if_legal', sa.Boolean(), nullable=False),
    sa.Column('income_expenditure_above_pence', sa.Integer(), nullable=False),
    sa.Column('team_leader_above_pence', sa.Integer(), nullable=False),
    sa.Column('updated_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('income_expenditure_above_pence >= 0', name=op.f('ck_plan_policies_ie_not_negative')),
    sa.CheckConstraint('max_auto_approve_pence >= 0', name=op.f('ck_plan_policies_auto_approve_not_negative')),
    sa.CheckConstraint('max_length_months > 0', name=op.f('ck_plan_policies_length_positive')),
    sa.CheckConstraint('min_instalment_pence > 0', name=op.f('ck_plan_policies_min_instalment_positive')),
    sa.CheckConstraint('no_broken_plan_within_months >= 0', name=op.f('ck_plan_policies_broken_months_not_negative')),
    sa.CheckConstraint('team_leader_above_pence >= 0', name=op.f('ck_plan_policies_team_leader_not_negative')),
    sa.ForeignKeyConstraint(['department_id'], ['service_departments.id'], name=op.f('fk_plan_policies_department_id_service_departments')),
    sa.ForeignKeyConstraint(['updated_by_staff_id'], ['staff_users.id'], name=op.f('fk_plan_policies_updated_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_policies')),
    sa.UniqueConstraint('department_id', name=op.f('uq_plan_policies_department_id'))
    )
    with op.batch_alter_table('arrangement_debts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage_at_start', sa.String(length=30), nullable=True))

    with op.batch_alter_table('arrangements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instalment_pence', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('instalment_count', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ie_statement_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('policy_outcome', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('policy_rules', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('needs_team_leader', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('original_terms', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('counter_offered_by_staff_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('counter_offered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('activated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ended_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('end_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('broken_reviewed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('broken_reviewed_by_staff_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_arrangements_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_arrangements_broken_reviewed_by_staff_id_staff_users'), 'staff_users', ['broken_reviewed_by_staff_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_arrangements_ie_statement_id_income_expenditure_statements'), 'income_expenditure_statements', ['ie_statement_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_arrangements_counter_offered_by_staff_id_staff_users'), 'staff_users', ['counter_offered_by_staff_id'], ['id'])
        batch_op.create_check_constraint(batch_op.f('ck_arrangements_instalment_positive'), 'instalment_pence IS NULL OR instalment_pence > 0')
        batch_op.create_check_constraint(batch_op.f('ck_arrangements_count_positive'), 'instalment_count IS NULL OR instalment_count > 0')

    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_pence', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('paid_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('missed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_instalments_paid_within_amount'), 'paid_pence >= 0 AND paid_pence <= amount_pence')


def _downgrade():
    with op.batch_alter_table('instalments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_instalments_paid_within_amount'), type_='check')
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('missed_on')
        batch_op.drop_column('paid_on')
        batch_op.drop_column('paid_pence')

    with op.batch_alter_table('arrangements', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_arrangements_count_positive'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_arrangements_instalment_positive'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_arrangements_counter_offered_by_staff_id_staff_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_arrangements_ie_statement_id_income_expenditure_statements'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_arrangements_broken_reviewed_by_staff_id_staff_users'), type_='foreignkey')
        batch_op.drop_index('ix_arrangements_status_created_at')
        batch_op.drop_column('broken_reviewed_by_staff_id')
        batch_op.drop_column('broken_reviewed_at')
        batch_op.drop_column('end_reason')
        batch_op.drop_column('ended_at')
        batch_op.drop_column('activated_at')
        batch_op.drop_column('counter_offered_at')
        batch_op.drop_column('counter_offered_by_staff_id')
        batch_op.drop_column('original_terms')
        batch_op.drop_column('needs_team_leader')
        batch_op.drop_column('policy_rules')
        batch_op.drop_column('policy_outcome')
        batch_op.drop_column('ie_statement_id')
        batch_op.drop_column('instalment_count')
        batch_op.drop_column('instalment_pence')

    with op.batch_alter_table('arrangement_debts', schema=None) as batch_op:
        batch_op.drop_column('stage_at_start')

    op.drop_table('plan_policies')
    with op.batch_alter_table('income_expenditure_statements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_income_expenditure_statements_account_id'))

    op.drop_table('income_expenditure_statements')

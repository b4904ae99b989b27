"""enforcement referrals

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 06:30:00

An officer's referral of debts to an enforcement agent or to legal, with the
invoices it covered (what each owed and the stage it was at before), so the pack
sent with it can be downloaded again exactly as it was.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

STAGES = ('none', 'reminder', 'final_demand', 'pre_action', 'referred_legal', 'referred_enforcement')


def upgrade():
    op.create_table('enforcement_referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('destination', sa.Enum('enforcement_agent', 'legal', name='referral_destination', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('referred_by', sa.Integer(), nullable=False),
    sa.Column('contact_event_id', sa.Integer(), nullable=True),
    sa.Column('pack_row', sa.JSON(), nullable=False),
    sa.Column('submission_key', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_enforcement_referrals_amount_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['debtor_accounts.id'], name=op.f('fk_enforcement_referrals_account_id_debtor_accounts')),
    sa.ForeignKeyConstraint(['contact_event_id'], ['contact_events.id'], name=op.f('fk_enforcement_referrals_contact_event_id_contact_events')),
    sa.ForeignKeyConstraint(['referred_by'], ['staff_users.id'], name=op.f('fk_enforcement_referrals_referred_by_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enforcement_referrals')),
    sa.UniqueConstraint('submission_key', name=op.f('uq_enforcement_referrals_submission_key'))
    )
    with op.batch_alter_table('enforcement_referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_referrals_account_id'), ['account_id'], unique=False)

    op.create_table('referral_invoices',
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.Integer(), nullable=False),
    sa.Column('stage_before', sa.Enum(*STAGES, name='referral_stage_before', native_enum=False, create_constraint=True), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_referral_invoices_amount_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], name=op.f('fk_referral_invoices_invoice_id_invoices')),
    sa.ForeignKeyConstraint(['referral_id'], ['enforcement_referrals.id'], name=op.f('fk_referral_invoices_referral_id_enforcement_referrals')),
    sa.PrimaryKeyConstraint('referral_id', 'invoice_id', name=op.f('pk_referral_invoices'))
    )
    with op.batch_alter_table('referral_invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_invoices_invoice_id'), ['invoice_id'], unique=False)


def downgrade():
    with op.batch_alter_table('referral_invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_invoices_invoice_id'))

    op.drop_table('referral_invoices')
    with op.batch_alter_table('enforcement_referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_referrals_account_id'))

    op.drop_table('enforcement_referrals')

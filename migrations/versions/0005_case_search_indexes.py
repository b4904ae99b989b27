"""case search indexes: name prefixes, email and phone digits

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 09:00:00.000000

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# (name, expression, PostgreSQL operator class or None). text_pattern_ops lets
# PostgreSQL use the index for LIKE 'smi%' whatever the database collation;
# SQLite has no operator classes and gets a plain expression index.
_INDEXES = (
    ('ix_debtor_accounts_lower_surname', 'lower(surname)', 'text_pattern_ops'),
    ('ix_debtor_accounts_lower_organisation_name', 'lower(organisation_name)', 'text_pattern_ops'),
    ('ix_debtor_accounts_lower_email', 'lower(email)', None),
    ('ix_debtor_accounts_mobile_digits', "replace(mobile_phone, ' ', '')", None),
    ('ix_debtor_accounts_other_digits', "replace(other_phone, ' ', '')", None),
)


def upgrade():
    postgres = op.get_bind().dialect.name == 'postgresql'
    for name, expression, ops in _INDEXES:
        opclass = f' {ops}' if postgres and ops else ''
        op.execute(f'CREATE INDEX {name} ON debtor_accounts (({expression}){opclass})')
    if postgres:
        # The planner knows nothing of an expression until the table is analysed,
        # and until then prefers walking the reference index for ORDER BY ... LIMIT.
        op.execute('ANALYZE debtor_accounts')


def downgrade():
    for name, _expression, _ops in reversed(_INDEXES):
        op.execute(f'DROP INDEX {name}')

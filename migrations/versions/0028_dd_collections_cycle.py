"""reserved for issue 13 (dd collections cycle): no change yet

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 14:00:00
"""

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

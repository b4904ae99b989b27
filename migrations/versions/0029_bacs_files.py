"""reserved for issue 13 (bacs files): no change yet

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 14:00:00
"""

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

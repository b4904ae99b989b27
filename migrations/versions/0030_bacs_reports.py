"""reserved for issue 13 (bacs reports): no change yet

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 14:00:00
"""

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

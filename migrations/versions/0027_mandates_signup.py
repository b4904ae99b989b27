"""reserved for issue 13 (mandates signup): no change yet

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 14:00:00
"""

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

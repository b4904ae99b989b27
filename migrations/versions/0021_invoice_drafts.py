"""invoices raised by officers, the checking queue and issuing

Reserved slot (filled in by the work that needs it).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 11:00:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

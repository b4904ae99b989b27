"""breathing space and deceased (placeholder: filled in by the work that needs it, removed if unused)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 04:10:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

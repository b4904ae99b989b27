"""Column helpers shared by every model.

Datetimes are stored as naive UTC on both databases, so comparisons behave the
same on SQLite and PostgreSQL. Money columns are integers of pence.
"""

from __future__ import annotations

import enum

import sqlalchemy as sa

# Stored timestamps are naive UTC; the one clock lives in shared.clock.
from shared.clock import utcnow

__all__ = ["utcnow", "enum_type", "created_at_column"]


def enum_type(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a CHECK constraint, storing the member values."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def created_at_column():
    return sa.orm.mapped_column(sa.DateTime(), nullable=False, default=utcnow)

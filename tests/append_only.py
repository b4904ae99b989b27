"""The check that a table refuses UPDATE and DELETE, for every append-only table's test."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.extensions import db


def assert_refuses_change_and_removal(app, table: str, assignment: str) -> None:
    """UPDATE `table` SET `assignment` and DELETE FROM `table` are both refused with the
    triggers' "append-only" error, and the rows are all still there.

    The triggers bind every role: on PostgreSQL this runs as the owner, since the app's
    runtime role is not even granted UPDATE or DELETE (tests/integration/test_runtime_role.py)."""
    db.session.close()
    owner_url = app.config.get("MIGRATION_DATABASE_URI")
    engine = sa.create_engine(owner_url) if owner_url else db.engine
    try:
        with engine.connect() as conn:
            count = conn.scalar(sa.text(f"SELECT COUNT(*) FROM {table}"))
            assert count > 0
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                conn.execute(sa.text(f"UPDATE {table} SET {assignment}"))
            conn.rollback()
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
            conn.rollback()
            assert conn.scalar(sa.text(f"SELECT COUNT(*) FROM {table}")) == count
    finally:
        if owner_url:
            engine.dispose()

"""The migrations are the schema: they must build exactly what the models describe."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from shared.extensions import db
from shared.models import APPEND_ONLY_TABLES, PaymentMethod
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department

# SQLite's reflection cannot read expression indexes (the case search's, migration
# 0005) and says so; alembic compares them on PostgreSQL.
_EXPRESSION_INDEXES_UNREFLECTED = pytest.mark.filterwarnings(
    "ignore:Skipped unsupported reflection of expression-based index:sqlalchemy.exc.SAWarning"
)


def _schema_differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


@_EXPRESSION_INDEXES_UNREFLECTED
def test_migrated_schema_matches_the_models(app):
    assert _schema_differences() == []


@_EXPRESSION_INDEXES_UNREFLECTED
def test_migrations_downgrade_to_nothing_and_upgrade_again(app):
    downgrade(revision="base")
    tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
    assert _schema_differences() == []


def _book_with_a_payment():
    account = make_account()
    department = make_department()
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number="INV-M1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        description="Licence",
        lines=[ledger.LineInput("Licence", 1, 10_000)],
        actor=SYSTEM,
    )
    ledger.record_payment(
        account_id=account.id, amount_pence=4_000, method=PaymentMethod.CASH, actor=SYSTEM
    )
    return invoice


@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_the_database_refuses_to_update_or_delete_append_only_rows(app, table):
    _book_with_a_payment()
    column = {
        "ledger_entries": "reason",
        "allocations": "created_by_staff_id",
        "audit_log": "action",
    }[table]
    value = {"ledger_entries": "'edited'", "allocations": "NULL", "audit_log": "'edited'"}[table]
    count = db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {table}"))
    assert count > 0
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(f"UPDATE {table} SET {column} = {value}"))
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        db.session.execute(sa.text(f"DELETE FROM {table}"))
    db.session.rollback()
    assert db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {table}")) == count

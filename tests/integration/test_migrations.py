"""The migrations are the schema: they must build exactly what the models describe."""

from __future__ import annotations

from datetime import date

import pyotp
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from flask_migrate import downgrade, upgrade

from shared.extensions import db
from shared.models import (
    APPEND_ONLY_TABLES,
    ContactEvent,
    ContactKind,
    PaymentMethod,
    StaffUser,
)
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.append_only import assert_refuses_change_and_removal
from tests.factories import make_account, make_department, make_staff

# SQLite's reflection cannot read expression indexes (the case search's, migration
# 0005) and says so; alembic compares them on PostgreSQL. Alembic ignores CHECK
# constraints, server defaults and triggers: test_schema_matches_models.py compares
# those, and every index, on both databases.
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


def _stored_secrets() -> dict[int, str | None]:
    """staff_users.totp_secret as it is in the database, by staff id."""
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT id, totp_secret FROM staff_users")).all())


def _migrate(step, **kw) -> None:
    # On PostgreSQL a read the session still has open holds a lock on staff_users
    # that the migration's ALTER TABLE would wait for for ever.
    db.session.close()
    step(**kw)


def _secret_column_type() -> str:
    columns = sa.inspect(db.engine).get_columns("staff_users")
    return str(next(c["type"] for c in columns if c["name"] == "totp_secret"))


@_EXPRESSION_INDEXES_UNREFLECTED
def test_migration_0011_encrypts_stored_secrets_and_its_downgrade_restores_them(app):
    secret = pyotp.random_base32()
    set_up, not_set_up = make_staff(totp_secret=secret).id, make_staff().id
    # Rows pointing at staff_users: on SQLite a migration that copies and drops the
    # table (batch mode's way to change a type) fails on them.
    db.session.add(
        ContactEvent(
            account_id=make_account().id, kind=ContactKind.NOTE, summary="Called", staff_id=set_up
        )
    )
    db.session.commit()

    _migrate(downgrade, revision="0010")
    assert _stored_secrets() == {set_up: secret, not_set_up: None}
    assert _secret_column_type() == "VARCHAR(64)"

    _migrate(upgrade)
    stored = _stored_secrets()
    assert stored[not_set_up] is None
    assert secret not in stored[set_up]
    db.session.expire_all()
    assert db.session.get(StaffUser, set_up).totp_secret == secret
    assert db.session.scalar(sa.select(ContactEvent.staff_id)) == set_up
    assert _schema_differences() == []


def test_migration_0011_encrypts_with_the_first_key_the_running_app_has(app):
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    secret = pyotp.random_base32()
    person = make_staff(totp_secret=secret).id
    _migrate(downgrade, revision="0010")

    app.config["TOTP_ENCRYPTION_KEYS"] = (key_b, key_a)
    _migrate(upgrade)

    token = _stored_secrets()[person]
    assert Fernet(key_b).decrypt(token.encode()).decode() == secret


def test_migration_0011_downgrade_refuses_secrets_no_key_opens_and_changes_nothing(app, capsys):
    person = make_staff(totp_secret=pyotp.random_base32()).id
    before = _stored_secrets()
    head = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))

    app.config["TOTP_ENCRYPTION_KEYS"] = (Fernet.generate_key().decode(),)
    # Flask-Migrate logs the error and exits 1, as `flask db downgrade` does.
    with pytest.raises(SystemExit):
        _migrate(downgrade, revision="0010")

    assert (
        f"Error: cannot decrypt staff_users.totp_secret for staff ids [{person}] with any key "
        "in TOTP_ENCRYPTION_KEYS" in capsys.readouterr().err
    )

    assert _stored_secrets() == before
    assert _secret_column_type() == "TEXT"
    # PostgreSQL runs the whole downgrade in one transaction, so it stays at the head;
    # SQLite keeps the steps down to 0011 that succeeded before it.
    version = db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert version == ("0011" if db.engine.dialect.name == "sqlite" else head)


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


# The bank statement tables are append-only too: tests/integration/test_bank_statement_import.py
# checks them with an imported statement's rows; tests/integration/test_credit_notes.py
# checks the credit-note tables with a credit note's; tests/integration/test_gl_journal.py
# the general-ledger journal tables with a written journal; and
# tests/integration/test_periodic_invoices.py a periodic invoice schedule's lines and runs.
_CHECKED_ELSEWHERE = ("bank_", "credit_note", "gl_journal", "invoice_schedule_")


@pytest.mark.parametrize(
    "table", [t for t in APPEND_ONLY_TABLES if not t.startswith(_CHECKED_ELSEWHERE)]
)
def test_the_database_refuses_to_update_or_delete_append_only_rows(app, table):
    _book_with_a_payment()
    column = {
        "ledger_entries": "reason",
        "allocations": "created_by_staff_id",
        "audit_log": "action",
    }[table]
    value = {"ledger_entries": "'edited'", "allocations": "NULL", "audit_log": "'edited'"}[table]
    assert_refuses_change_and_removal(app, table, f"{column} = {value}")

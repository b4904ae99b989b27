"""History cannot be rewritten: the app's PostgreSQL role owns nothing and may not
TRUNCATE, alter, drop triggers, or change an append-only row (shared/db_roles.py).

Every app the PostgreSQL run builds connects as the runtime role (tests/conftest.py),
so `db.engine` here is the role production's web and workers use.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from shared.config import ConfigError
from shared.db_roles import INSERT_ONLY_TABLES, runtime_role_problems
from shared.extensions import db
from shared.models import DebtorAccount, LedgerEntry, PaymentMethod
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.startup import check_runtime_role
from tests.conftest import OWNER_ROLE, RUNTIME_ROLE, _is_postgres, as_superuser
from tests.factories import make_account, make_department

pytestmark = pytest.mark.skipif(
    not _is_postgres(),
    reason="SQLite has no roles or grants; the PostgreSQL run of the suite covers this",
)

INSUFFICIENT_PRIVILEGE = "42501"


def _book() -> int:
    """An account with an invoice and a payment: rows in every append-only table."""
    account = make_account()
    ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV-R1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        description="Licence",
        lines=[ledger.LineInput("Licence", 1, 10_000)],
        actor=SYSTEM,
    )
    ledger.record_payment(
        account_id=account.id, amount_pence=4_000, method=PaymentMethod.CASH, actor=SYSTEM
    )
    return account.id


def _counts() -> dict[str, int]:
    return {
        table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
        for table in sorted(INSERT_ONLY_TABLES)
    }


def _refused(statement: str, message: str) -> None:
    """`statement` fails as the runtime role for want of a privilege, not a trigger."""
    with db.engine.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError) as refused:
            connection.execute(sa.text(statement))
        connection.rollback()
    assert refused.value.orig.sqlstate == INSUFFICIENT_PRIVILEGE, refused.value
    assert message in str(refused.value.orig)


def test_the_app_connects_as_the_runtime_role_which_owns_no_table(app):
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT current_user")) == RUNTIME_ROLE
        owners = set(
            connection.scalars(
                sa.text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")
            )
        )
    assert owners == {OWNER_ROLE}


@pytest.mark.parametrize(
    "statement, message",
    [
        ("TRUNCATE audit_log", "permission denied for table audit_log"),
        ("TRUNCATE ledger_entries CASCADE", "permission denied for table ledger_entries"),
        (
            "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_append_only",
            "must be owner of table ledger_entries",
        ),
        ("ALTER TABLE audit_log DISABLE TRIGGER ALL", "must be owner of table audit_log"),
        (
            "DROP TRIGGER audit_log_append_only ON audit_log",
            "must be owner of relation audit_log",
        ),
        ("CREATE TABLE forged_ledger (id integer)", "permission denied for schema public"),
        ("ALTER TABLE debtor_accounts ADD COLUMN forged text", "must be owner of table"),
        ("DROP TABLE audit_log", "must be owner of table audit_log"),
    ],
)
def test_the_runtime_role_cannot_truncate_alter_or_drop_anything(app, statement, message):
    _book()
    before = _counts()
    _refused(statement, message)
    assert _counts() == before


@pytest.mark.parametrize("table", sorted(INSERT_ONLY_TABLES))
def test_the_runtime_role_may_not_update_or_delete_an_append_only_row(app, table):
    _book()
    before = _counts()
    # "permission denied", not the trigger's "append-only": the grant itself refuses.
    _refused(f"UPDATE {table} SET id = id", f"permission denied for table {table}")
    _refused(f"DELETE FROM {table}", f"permission denied for table {table}")
    assert _counts() == before


def test_the_runtime_role_does_normal_work_insert_a_ledger_row_and_update_an_account(app):
    account_id = _book()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))

    ledger.record_payment(
        account_id=account_id, amount_pence=1_500, method=PaymentMethod.CHEQUE, actor=SYSTEM
    )
    account = db.session.get(DebtorAccount, account_id)
    account.email = "changed@example.org"
    db.session.commit()

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == before + 1
    assert db.session.get(DebtorAccount, account_id).email == "changed@example.org"


def test_every_table_of_the_models_is_granted_and_only_insert_on_the_append_only_ones(app):
    # Tables added by later migrations are covered too: the grants come from the metadata.
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:

            def can(privilege: str, name: str = table.name) -> bool:
                return connection.scalar(
                    sa.text("SELECT has_table_privilege(:t, :p)"), {"t": name, "p": privilege}
                )

            assert can("SELECT") and can("INSERT"), table.name
            rewrite = table.name not in INSERT_ONLY_TABLES
            assert (can("UPDATE"), can("DELETE")) == (rewrite, rewrite), table.name
            assert not can("TRUNCATE") and not can("TRIGGER"), table.name


def test_the_owner_cannot_truncate_an_append_only_table_by_accident_either(app):
    _book()
    before = _counts()
    db.session.close()  # or TRUNCATE would wait for ever on its read's lock
    owner = sa.create_engine(app.config["MIGRATION_DATABASE_URI"])
    try:
        for statement in ("TRUNCATE audit_log", "TRUNCATE debtor_accounts CASCADE"):
            with owner.connect() as connection:
                with pytest.raises(sa.exc.DBAPIError, match="append-only: TRUNCATE refused"):
                    connection.execute(sa.text(statement))
                connection.rollback()
    finally:
        owner.dispose()
    assert _counts() == before


def test_grant_runtime_puts_back_a_grant_that_went_missing_and_removes_one_added(app):
    owner = sa.create_engine(app.config["MIGRATION_DATABASE_URI"])
    try:
        with owner.begin() as connection:
            connection.execute(sa.text(f"REVOKE INSERT ON debtor_accounts FROM {RUNTIME_ROLE}"))
            connection.execute(sa.text(f"GRANT TRUNCATE ON audit_log TO {RUNTIME_ROLE}"))
    finally:
        owner.dispose()

    result = app.test_cli_runner().invoke(args=["db", "grant-runtime"])

    assert result.exit_code == 0, result.output
    assert "Granted the runtime role its privileges on" in result.output
    with db.engine.connect() as connection:
        privilege = sa.text("SELECT has_table_privilege(:t, :p)")
        assert connection.scalar(privilege, {"t": "debtor_accounts", "p": "INSERT"})
        assert not connection.scalar(privilege, {"t": "audit_log", "p": "TRUNCATE"})


def test_grant_runtime_without_an_owner_url_says_there_is_nothing_to_grant(app):
    app.config["MIGRATION_DATABASE_URI"] = None

    result = app.test_cli_runner().invoke(args=["db", "grant-runtime"])

    assert result.exit_code == 1
    assert "MIGRATION_DATABASE_URL is not set" in result.output


def test_production_starts_as_the_runtime_role(app):
    app.config["APP_ENV"] = "production"
    with db.engine.connect() as connection:
        assert runtime_role_problems(connection) == []
    check_runtime_role(app)  # no error


@pytest.mark.parametrize(
    "who, problem",
    [
        ("owner", "it owns tables ("),
        ("superuser", "it is a superuser"),
    ],
)
def test_production_refuses_to_start_as_a_role_that_could_rewrite_history(app, who, problem):
    from shared.app import create_app
    from tests.conftest import make_config

    url = app.config["MIGRATION_DATABASE_URI"] if who == "owner" else None
    url = url or as_superuser(app.config["SQLALCHEMY_DATABASE_URI"])
    other = create_app(make_config(url))
    other.config["APP_ENV"] = "production"
    try:
        with pytest.raises(ConfigError) as refused:
            check_runtime_role(other)
    finally:
        with other.app_context():
            db.engine.dispose()
    line = str(refused.value)
    assert "\n" not in line
    assert "could rewrite history" in line and problem in line
    assert "MIGRATION_DATABASE_URL" in line
    if who == "owner":
        assert "it can TRUNCATE" in line and "UPDATE or DELETE append-only" in line


def test_outside_production_the_role_is_not_checked(app):
    from shared.app import create_app
    from tests.conftest import make_config

    other = create_app(make_config(as_superuser(app.config["SQLALCHEMY_DATABASE_URI"])))
    try:
        check_runtime_role(other)  # development and the demo run as one role
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_production_worker_stops_with_one_line_on_the_owner_role(app, capsys):
    from shared.app import create_app
    from shared.jobs.worker import _refuse_a_role_that_could_rewrite_history
    from tests.conftest import make_config

    other = create_app(make_config(app.config["MIGRATION_DATABASE_URI"]))
    other.config["APP_ENV"] = "production"
    try:
        with pytest.raises(SystemExit) as stopped:
            _refuse_a_role_that_could_rewrite_history(other)
    finally:
        with other.app_context():
            db.engine.dispose()
    assert stopped.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Configuration error: DATABASE_URL's role")

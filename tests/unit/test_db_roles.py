"""The runtime role's grants, computed without a database (shared/db_roles.py), and
the MIGRATION_DATABASE_URL setting."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, load_config
from shared.db_roles import runtime_grant_statements


def _grants(statements: list[str]) -> dict[str, str]:
    """GRANT ... ON TABLE lines as {table: privileges}."""
    found = {}
    for statement in statements:
        if statement.startswith("GRANT ") and " ON TABLE " in statement:
            privileges, rest = statement[len("GRANT ") :].split(" ON TABLE ")
            found[rest.split(" TO ")[0].split(".")[1].strip('"')] = privileges
    return found


def test_append_only_tables_are_granted_select_and_insert_only():
    statements = runtime_grant_statements(
        "app", ["ledger_entries", "allocations", "audit_log", "invoices", "alembic_version"]
    )

    assert _grants(statements) == {
        "alembic_version": "SELECT",
        "allocations": "SELECT, INSERT",
        "audit_log": "SELECT, INSERT",
        "invoices": "SELECT, INSERT, UPDATE, DELETE",
        "ledger_entries": "SELECT, INSERT",
    }


def test_no_grant_gives_truncate_trigger_references_or_create():
    statements = runtime_grant_statements("app", ["invoices", "audit_log"])

    granted = {
        privilege.strip()
        for s in statements
        if s.startswith("GRANT ")
        for privilege in s[len("GRANT ") :].split(" ON ")[0].split(",")
    }
    assert granted == {"SELECT", "INSERT", "UPDATE", "DELETE", "USAGE"}


def test_the_grants_start_from_nothing_so_applying_them_again_removes_extras():
    statements = runtime_grant_statements("app", ["invoices"], schema="recovery")

    assert statements[:3] == [
        'REVOKE ALL ON ALL TABLES IN SCHEMA "recovery" FROM "app"',
        'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "recovery" FROM "app"',
        'REVOKE CREATE ON SCHEMA "recovery" FROM "app"',
    ]
    assert statements[-1] == (
        'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "recovery" TO "app"'
    )


def test_role_and_table_names_are_quoted_so_no_name_can_inject_sql():
    statements = runtime_grant_statements('x"; DROP TABLE audit_log; --', ["invoices"])

    assert 'TO "x""; DROP TABLE audit_log; --"' in statements[-1]


def test_an_empty_migration_database_url_means_one_role_as_before():
    assert load_config(environ={})["MIGRATION_DATABASE_URI"] is None


def test_a_migration_database_url_is_normalised_like_database_url():
    config = load_config(
        environ={
            "DATABASE_URL": "postgresql://app:pw@db.internal/recovery",
            "MIGRATION_DATABASE_URL": "postgres://owner:pw@db.internal/recovery",
        }
    )

    assert config["MIGRATION_DATABASE_URI"] == "postgresql+psycopg://owner:pw@db.internal/recovery"


@pytest.mark.parametrize(
    "environ, message",
    [
        (
            {"MIGRATION_DATABASE_URL": "postgresql://owner@db/recovery"},
            "MIGRATION_DATABASE_URL is for PostgreSQL",
        ),
        (
            {"DATABASE_URL": "postgresql://app@db/recovery", "MIGRATION_DATABASE_URL": "mysql://x"},
            "MIGRATION_DATABASE_URL must start with sqlite:/// or postgresql://",
        ),
        (
            {
                "DATABASE_URL": "postgresql://app@db/recovery",
                "MIGRATION_DATABASE_URL": "postgresql://o@db/",
            },
            "MIGRATION_DATABASE_URL has no database name",
        ),
    ],
)
def test_a_migration_database_url_that_cannot_work_is_refused_by_name(environ, message):
    with pytest.raises(ConfigError, match=message):
        load_config(environ=environ)

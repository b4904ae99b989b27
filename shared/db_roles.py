"""Two PostgreSQL roles, so the application cannot rewrite history.

The OWNER role (MIGRATION_DATABASE_URL) owns the tables and runs the migrations.
The web, the workers and every `flask` command run as the RUNTIME role (the user in
DATABASE_URL), which owns nothing and holds only the privileges computed here:

- SELECT, INSERT, UPDATE, DELETE on every table the models describe;
- only SELECT and INSERT on the append-only tables (the ledger, its allocations and
  the audit log): corrections are new rows, so nothing may change or remove one;
- USAGE, SELECT and UPDATE on the id sequences (UPDATE is what `setval` needs: the
  demo seed reserves ids in bulk; the worst a stray `setval` can do is make an
  insert collide, never change a stored row);
- only SELECT on alembic_version;
- no TRUNCATE, REFERENCES or TRIGGER, and no CREATE on the schema.

Owning nothing, the runtime role cannot ALTER, DROP or DISABLE TRIGGER either: those
need the owner. `grant_runtime_role` runs after every `flask db upgrade`, in the
migration's own transaction (migrations/env.py), so a table added by a migration is
granted the moment it exists; `flask --app wsgi db grant-runtime` applies it again.

With MIGRATION_DATABASE_URL empty (SQLite, the demo) one role does everything, as
before; production on PostgreSQL refuses to start that way (shared/startup.py).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import Connection, Engine, make_url

# Tables whose rows are never updated or deleted: the triggers of migration 0001 refuse
# it for every role, and the runtime role is not even granted it.
from shared.models import APPEND_ONLY_TABLES

INSERT_ONLY_TABLES: frozenset[str] = frozenset(APPEND_ONLY_TABLES)
# Alembic's own table: the app may read which revision it runs on, never set it.
READ_ONLY_TABLES: frozenset[str] = frozenset({"alembic_version"})

ROW_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
INSERT_ONLY_PRIVILEGES = "SELECT, INSERT"
READ_ONLY_PRIVILEGES = "SELECT"
SEQUENCE_PRIVILEGES = "USAGE, SELECT, UPDATE"


def quote(identifier: str) -> str:
    """A PostgreSQL identifier, double-quoted so any name is taken literally."""
    return '"' + identifier.replace('"', '""') + '"'


def runtime_grant_statements(
    role: str,
    tables: Iterable[str],
    schema: str = "public",
    insert_only: frozenset[str] = INSERT_ONLY_TABLES,
    read_only: frozenset[str] = READ_ONLY_TABLES,
) -> list[str]:
    """The SQL that leaves `role` with exactly the runtime privileges on `tables`.

    It starts by revoking everything in the schema, so applying it again removes a
    privilege granted by hand or one a table no longer needs (a table made append-only).
    """
    who, where = quote(role), quote(schema)
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {who}",
        f"REVOKE CREATE ON SCHEMA {where} FROM {who}",
        f"GRANT USAGE ON SCHEMA {where} TO {who}",
    ]
    for table in sorted(set(tables)):
        if table in read_only:
            privileges = READ_ONLY_PRIVILEGES
        elif table in insert_only:
            privileges = INSERT_ONLY_PRIVILEGES
        else:
            privileges = ROW_PRIVILEGES
        statements.append(f"GRANT {privileges} ON TABLE {where}.{quote(table)} TO {who}")
    statements.append(f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {where} TO {who}")
    return statements


def migration_engine(app: Flask) -> Engine | None:
    """An engine on MIGRATION_DATABASE_URL (the owner role), or None when it is not set."""
    url = app.config.get("MIGRATION_DATABASE_URI")
    if not url:
        return None
    return sa.create_engine(url, **dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}))


def runtime_role(app: Flask) -> str | None:
    """The role to grant: DATABASE_URL's user, when migrations run as a different one."""
    owner_url = app.config.get("MIGRATION_DATABASE_URI")
    if not owner_url:
        return None
    runtime_url = make_url(str(app.config["SQLALCHEMY_DATABASE_URI"]))
    role = runtime_url.username
    if not role:
        # No user in the URL (PGUSER, peer authentication): ask the server who we are.
        from shared.extensions import db

        with db.engine.connect() as connection:
            role = str(connection.scalar(sa.text("SELECT current_user")))
    return role


def grant_runtime_role(connection: Connection, app: Flask, metadata: sa.MetaData) -> list[str]:
    """Grant the runtime role its privileges on the tables that exist, on `connection`
    (the owner's, inside the caller's transaction). Returns the statements run, or []
    when one role does everything."""
    role = runtime_role(app)
    if role is None or connection.dialect.name != "postgresql":
        return []
    owner = connection.scalar(sa.text("SELECT current_user"))
    if role == owner:
        return []
    exists = connection.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    if not exists:
        # A RuntimeError: `flask db upgrade` prints it as one line and exits 1.
        raise RuntimeError(
            f"the runtime role {role!r} (the user in DATABASE_URL) does not exist: "
            "create it as docs/operations.md shows, then run `flask --app wsgi db upgrade` again"
        )
    schema = str(connection.scalar(sa.text("SELECT current_schema()")))
    present = set(sa.inspect(connection).get_table_names(schema=schema))
    tables = [t.name for t in metadata.sorted_tables if t.name in present]
    tables += sorted(READ_ONLY_TABLES & present)
    statements = runtime_grant_statements(role, tables, schema=schema)
    for statement in statements:
        connection.exec_driver_sql(statement)
    return statements


# What the start-up check reads, as the runtime role, about itself.
_ROLE_FACTS = sa.text(
    """
    SELECT
        (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
        has_schema_privilege(current_schema(), 'CREATE') AS can_create,
        (SELECT pg_has_role(datdba, 'USAGE') FROM pg_database
         WHERE datname = current_database()) AS owns_database,
        ARRAY(
            SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace
              AND c.relkind IN ('r', 'p') AND pg_has_role(c.relowner, 'USAGE')
            ORDER BY c.relname
        ) AS owned,
        ARRAY(
            SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace
              AND c.relkind IN ('r', 'p') AND has_table_privilege(c.oid, 'TRUNCATE')
            ORDER BY c.relname
        ) AS truncatable,
        ARRAY(
            SELECT c.relname FROM pg_class c
            WHERE c.relnamespace = current_schema()::regnamespace
              AND c.relname = ANY(:insert_only)
              AND (has_table_privilege(c.oid, 'UPDATE') OR has_table_privilege(c.oid, 'DELETE'))
            ORDER BY c.relname
        ) AS rewritable
    """
)


def _some(names: list[str]) -> str:
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def runtime_role_problems(connection: Connection) -> list[str]:
    """What lets the connected role rewrite history ([] when it is a proper runtime role)."""
    facts = connection.execute(_ROLE_FACTS, {"insert_only": sorted(INSERT_ONLY_TABLES)}).one()
    if facts.superuser:
        return ["it is a superuser"]
    problems = []
    if facts.owns_database:
        problems.append("it owns the database")
    if facts.owned:
        problems.append(f"it owns tables ({_some(facts.owned)})")
    if facts.truncatable:
        problems.append(f"it can TRUNCATE {_some(facts.truncatable)}")
    if facts.rewritable:
        problems.append(f"it can UPDATE or DELETE append-only {_some(facts.rewritable)}")
    if facts.can_create:
        problems.append("it can CREATE tables in the schema")
    return problems

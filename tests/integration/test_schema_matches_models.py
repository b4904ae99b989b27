"""The migrations build what the models declare, down to what alembic does not compare.

tests/integration/test_migrations.py compares tables, columns, types, keys and
plain indexes with alembic's autogenerate comparison, which ignores CHECK
constraints and server defaults, and on SQLite cannot read expression indexes.
Here the database the migrations built (`database_template`, as `flask db upgrade`
builds it) is read from the database's own catalogue (pg_catalog on PostgreSQL,
sqlite_master and PRAGMAs on SQLite) and compared with one that
`db.metadata.create_all` built from the models, on the same kind of database:
CHECK constraints by table and name with their SQL, server defaults, every index
with its columns or expressions, uniqueness and WHERE clause, and triggers.

Both sides come from the same kind of database (PostgreSQL re-spells what it
stores; SQLite keeps the text the migration or SQLAlchemy wrote), so the text
needs little normalising: case, quoting, whitespace, the schema prefix, redundant
brackets round the whole or round a bare name, and the casts PostgreSQL adds.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from shared.config import normalise_database_url
from shared.extensions import db
from shared.models import APPEND_ONLY_TABLES
from tests.conftest import TEST_DATABASE_URL, _is_postgres

# ---------------------------------------------------------------- normalising

_QUOTED = re.compile(r"('(?:[^']|'')*')")
# `::text`, `::character varying(20)`, `::text[]`, `::timestamp without time zone`...
_CAST = re.compile(
    r"::\s*\"?[a-z_][a-z0-9_]*\"?"
    r"(?:\s+(?:varying|precision|with(?:out)?\s+time\s+zone))?"
    r"(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])*",
    re.IGNORECASE,
)


_KEYWORDS = {"and", "or", "not", "in", "is", "any", "all", "exists", "like", "between", "when"}
_KEYWORDS |= {"then", "else", "on", "where", "using", "check", "distinct"}


def _normalise_outside_literals(text: str) -> str:
    text = text.lower()
    text = re.sub(r"[\"`]", "", text)  # identifier quoting
    text = re.sub(r"\bpublic\.", "", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\(\s+", "(", text)
    text = re.sub(r"\s+\)", ")", text)
    text = re.sub(r"\)(?=\w)", ") ", text)
    text = re.sub(r"\s*,\s*", ", ", text)
    # `lower (x)` is the call `lower(x)`; `in(x)` is the keyword `in (x)`.
    text = re.sub(
        r"\b(\w+)\s*\(",
        lambda m: f"{m[1]} (" if m[1] in _KEYWORDS else f"{m[1]}(",
        text,
    )
    text = text.replace("!=", "<>")
    # A bare name in brackets, as `(email)::text` leaves once its cast is gone.
    text = re.sub(r"(?<![\w\]])\(([a-z_][\w.]*)\)", r"\1", text)
    return re.sub(r"\s*(<>|>=|<=|=|<|>)\s*", r" \1 ", text)


def _matching_bracket(text: str, opening: int) -> int:
    """The index of the `)` closing the `(` at `opening`, skipping quoted text."""
    depth, quoted = 0, False
    for i in range(opening, len(text)):
        char = text[i]
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced brackets in {text!r}")


def normalise(sql: str | None) -> str | None:
    """`sql` spelled one way: what differs only in spelling compares equal."""
    if sql is None:
        return None
    parts = _QUOTED.split(_CAST.sub("", sql))
    # Odd parts are string literals: kept as they are, since 'Dispute' is not 'dispute'.
    text = "".join(p if i % 2 else _normalise_outside_literals(p) for i, p in enumerate(parts))
    text = text.strip()
    # Brackets PostgreSQL puts round a whole expression (and SQLite keeps if written).
    while text.startswith("(") and _matching_bracket(text, 0) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _split_top_level(text: str) -> list[str]:
    """`text` split at the commas outside brackets and quotes."""
    items, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items]


# ------------------------------------------------------------ reading a schema


@dataclass(frozen=True)
class Index:
    unique: bool
    # Column names, or expressions, each with a PostgreSQL operator class if not the default.
    elements: tuple[str, ...]
    where: str | None


@dataclass(frozen=True)
class Trigger:
    table: str
    # e.g. "before delete or update" (PostgreSQL lists the events in its own order).
    when: str
    for_each: str


@dataclass
class Schema:
    # (table, constraint name) -> normalised SQL of the condition
    checks: dict[tuple[str, str], str] = field(default_factory=dict)
    # (table, column) -> normalised default expression
    defaults: dict[tuple[str, str], str] = field(default_factory=dict)
    # (table, index name) -> the index
    indexes: dict[tuple[str, str], Index] = field(default_factory=dict)
    # trigger name -> the trigger
    triggers: dict[str, Trigger] = field(default_factory=dict)


_INDEX_DDL = re.compile(
    r"^create\s+(unique\s+)?index\s+(?:if\s+not\s+exists\s+)?\S+\s+on\s+\S+\s*(?:using\s+\w+\s*)?\(",
    re.IGNORECASE,
)


def _parse_index(ddl: str) -> Index:
    """An index from its CREATE INDEX statement (either database's spelling)."""
    head = _INDEX_DDL.match(ddl.strip())
    assert head, f"not a CREATE INDEX statement: {ddl}"
    ddl = ddl.strip()
    opening = head.end() - 1
    closing = _matching_bracket(ddl, opening)
    rest = ddl[closing + 1 :].strip()
    where = re.match(r"^where\s+(.*)$", rest, re.IGNORECASE | re.DOTALL)
    assert where or not rest, f"unexpected text after an index's columns: {rest!r}"
    return Index(
        unique=bool(head.group(1)),
        elements=tuple(normalise(e) for e in _split_top_level(ddl[opening + 1 : closing])),
        where=normalise(where.group(1)) if where else None,
    )


_TRIGGER_DDL = re.compile(
    r"^create\s+trigger\s+(?:if\s+not\s+exists\s+)?(\S+)\s+(.*?)\s+on\s+(\S+)\s*(.*)$",
    re.IGNORECASE | re.DOTALL,
)


def _parse_trigger(ddl: str) -> tuple[str, Trigger]:
    found = _TRIGGER_DDL.match(ddl.strip())
    assert found, f"not a CREATE TRIGGER statement: {ddl}"
    name, when, table, rest = found.groups()
    each = re.search(r"for\s+each\s+(row|statement)", rest, re.IGNORECASE)
    # SQLite has only row triggers, and FOR EACH ROW is optional there.
    return normalise(name), Trigger(
        table=normalise(table),
        when=normalise(when),
        for_each=each.group(1).lower() if each else "row",
    )


_CHECK = re.compile(r"(?:\bconstraint\s+(\"[^\"]+\"|\S+)\s+)?\bcheck\s*\(", re.IGNORECASE)


def _sqlite_checks(table: str, ddl: str) -> dict[tuple[str, str], str]:
    """The CHECK constraints written in a SQLite CREATE TABLE (and ALTER TABLE ADD COLUMN)."""
    checks = {}
    for found in _CHECK.finditer(ddl):
        opening = found.end() - 1
        condition = ddl[opening : _matching_bracket(ddl, opening) + 1]
        name = normalise(found.group(1)) if found.group(1) else f"<unnamed: {normalise(condition)}>"
        checks[(table, name)] = normalise(condition)
    return checks


def _sqlite_schema(conn) -> Schema:
    schema = Schema()
    rows = conn.execute(
        sa.text(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE name NOT LIKE 'sqlite_%' AND tbl_name <> 'alembic_version'"
        )
    ).all()
    for kind, name, table, sql in rows:
        if kind == "table":
            schema.checks.update(_sqlite_checks(table, sql))
            for column in conn.execute(sa.text(f'PRAGMA table_info("{table}")')).mappings():
                if column["dflt_value"] is not None:
                    schema.defaults[(table, column["name"])] = normalise(column["dflt_value"])
            # Indexes SQLite makes for PRIMARY KEY and UNIQUE have no SQL of their own
            # and a name by their order in the table: known here by their columns.
            for index in conn.execute(sa.text(f'PRAGMA index_list("{table}")')).mappings():
                if index["origin"] in ("pk", "u"):
                    columns = tuple(
                        c["name"]
                        for c in conn.execute(sa.text(f'PRAGMA index_info("{index["name"]}")'))
                        .mappings()
                        .all()
                    )
                    key = f"<{index['origin']} autoindex on {', '.join(columns)}>"
                    schema.indexes[(table, key)] = Index(bool(index["unique"]), columns, None)
        elif kind == "index" and sql is not None:
            schema.indexes[(table, name)] = _parse_index(sql)
        elif kind == "trigger":
            trigger_name, trigger = _parse_trigger(sql)
            schema.triggers[trigger_name] = trigger
    return schema


def _postgres_schema(conn) -> Schema:
    schema = Schema()
    in_public = "n.nspname = 'public'"
    for table, name, definition in conn.execute(
        sa.text(
            "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            "JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE k.contype = 'c' AND {in_public}"
        )
    ):
        assert definition.startswith("CHECK "), definition
        schema.checks[(table, name)] = normalise(definition.removeprefix("CHECK "))
    for table, column, default, identity in conn.execute(
        sa.text(
            "SELECT c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid), a.attidentity "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            f"WHERE {in_public} AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
            "AND (d.adbin IS NOT NULL OR a.attidentity <> '')"
        )
    ):
        if table == "alembic_version":
            continue
        schema.defaults[(table, column)] = (
            normalise(default) if default is not None else f"<identity {identity}>"
        )
    for table, name, definition in conn.execute(
        sa.text(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )
    ):
        schema.indexes[(table, name)] = _parse_index(definition)
    for (definition,) in conn.execute(
        sa.text(
            "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE NOT t.tgisinternal AND {in_public}"
        )
    ):
        trigger_name, trigger = _parse_trigger(definition)
        schema.triggers[trigger_name] = trigger
    return schema


def read_schema(url: str) -> Schema:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                return _postgres_schema(conn)
            return _sqlite_schema(conn)
    finally:
        engine.dispose()


# ------------------------------------------------------------ the two databases


@pytest.fixture(scope="module")
def migrated(database_template) -> Schema:
    """The schema `flask db upgrade` built (tests/conftest.py)."""
    if _is_postgres():
        return read_schema(database_template)
    # Read-only: every test of this worker copies this template.
    uri = f"file:{database_template}?mode=ro"
    engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    try:
        with engine.connect() as conn:
            return _sqlite_schema(conn)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def models_database(tmp_path_factory, worker_id_str):
    """A database `db.metadata.create_all` built from the models alone: its URL."""
    if not _is_postgres():
        path = Path(tmp_path_factory.mktemp("models")) / "models.db"
        url = f"sqlite:///{path}"
        engine = sa.create_engine(url)
        db.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    base = make_url(normalise_database_url(TEST_DATABASE_URL))
    name = f"{base.database}_{worker_id_str}_models"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    db.metadata.create_all(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def modelled(models_database) -> Schema:
    return read_schema(models_database)


def _differences(migrated: dict, modelled: dict, other: str = "the models declare") -> list[str]:
    """What differs between two name -> definition maps, one line each."""
    lines = []
    for key in sorted(migrated.keys() | modelled.keys(), key=str):
        built, declared = migrated.get(key), modelled.get(key)
        if built == declared:
            continue
        if declared is None:
            lines.append(f"{key}: only the migrations build it: {built}")
        elif built is None:
            lines.append(f"{key}: only {other} it: {declared}")
        else:
            lines.append(f"{key}: the migrations build {built}, {other} {declared}")
    return lines


# ------------------------------------------------------------------- the tests


def test_migrations_build_the_check_constraints_the_models_declare(migrated, modelled):
    assert modelled.checks, "no CHECK constraint read from the models' database"
    assert _differences(migrated.checks, modelled.checks) == []


def test_migrations_build_the_server_defaults_the_models_declare(migrated, modelled):
    assert modelled.defaults, "no server default read from the models' database"
    assert _differences(migrated.defaults, modelled.defaults) == []


def test_migrations_build_the_indexes_the_models_declare_with_expressions_and_where_clauses(
    migrated, modelled
):
    assert _differences(migrated.indexes, modelled.indexes) == []
    # The expression indexes (migration 0005) are read, not skipped, on both databases.
    expression = ("debtor_accounts", "ix_debtor_accounts_lower_email")
    assert migrated.indexes[expression].elements == ("lower(email)",)


# Triggers only the migrations create: the models declare none, so each one the
# migrations should have built is listed here, and one a later migration drops (or
# misspells, or fires at the wrong time) fails the check.
# name -> (table, when, for each)
_EXPECTED_TRIGGERS = {
    "postgresql": {
        # 0001: rows of the append-only tables are never updated or deleted...
        **{
            f"{table}_append_only": Trigger(table, "before delete or update", "row")
            for table in APPEND_ONLY_TABLES
        },
        # ...0017: nor the tables truncated (TRUNCATE fires no row trigger).
        **{
            f"{table}_no_truncate": Trigger(table, "before truncate", "statement")
            for table in APPEND_ONLY_TABLES
        },
    },
    # 0001: SQLite's triggers name one event each; SQLite has no TRUNCATE.
    "sqlite": {
        f"{table}_no_{event}": Trigger(table, f"before {event}", "row")
        for table in APPEND_ONLY_TABLES
        for event in ("update", "delete")
    },
}


def test_migrations_build_exactly_the_expected_triggers(migrated, modelled):
    dialect = "postgresql" if _is_postgres() else "sqlite"
    expected = {**_EXPECTED_TRIGGERS[dialect], **modelled.triggers}
    assert _differences(migrated.triggers, expected, other="_EXPECTED_TRIGGERS has") == []


def test_the_comparison_sees_an_index_where_clause_the_migrations_lack(
    models_database, migrated, modelled
):
    # No model has a partial index yet: add one to the models' database for a moment.
    engine = sa.create_engine(models_database)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE INDEX ix_probe_open_holds ON account_holds (account_id) "
                    "WHERE lifted_at IS NULL"
                )
            )
        probed = read_schema(models_database)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX IF EXISTS ix_probe_open_holds"))
        engine.dispose()

    # Only what the probe added, whatever else may differ.
    added = set(_differences(migrated.indexes, probed.indexes)) - set(
        _differences(migrated.indexes, modelled.indexes)
    )
    assert added == {
        "('account_holds', 'ix_probe_open_holds'): only the models declare it: "
        "Index(unique=False, elements=('account_id',), where='lifted_at is null')"
    }


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ('CHECK ("amount_pence" > 0)', "check (amount_pence>0)"),
        ("((a IS NULL) OR (a > 0))", "(a IS NULL) OR (a > 0)"),
        (
            "(kind)::text = ANY ((ARRAY['a'::character varying])::text[])",
            "(kind) = ANY ((ARRAY['a']))",
        ),
        ("lower((surname)::text) text_pattern_ops", "lower((surname)) text_pattern_ops"),
        ("public.ledger_entries", '"ledger_entries"'),
        ("lower((email)::text)", "lower(email)"),
    ],
)
def test_spellings_that_mean_the_same_compare_equal(one, other):
    assert normalise(one) == normalise(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("amount_pence > 0", "amount_pence > 100"),
        ("amount_pence > 0", "amount_pence >= 0"),
        ("kind IN ('Dispute')", "kind IN ('dispute')"),
    ],
)
def test_spellings_that_differ_in_meaning_or_form_compare_unequal(one, other):
    assert normalise(one) != normalise(other)

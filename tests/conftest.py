"""Fixtures shared by the whole suite.

The database under test comes from TEST_DATABASE_URL (`make test` runs the
suite once on SQLite and once on a throwaway PostgreSQL cluster). The schema
is built by the real migrations, once per xdist worker:
- SQLite: a migrated template file is copied for every test (a fresh database
  per test, in milliseconds);
- PostgreSQL: one database per worker, every table truncated before each test.
  As in production (docs/operations.md) two roles share it: `recovery_owner` owns
  the database and runs the migrations, and every app the tests build connects as
  `recovery_runtime`, with only the grants shared/db_roles.py gives it, so the whole
  PostgreSQL run proves those grants are enough. The superuser in TEST_DATABASE_URL
  creates the roles when the cluster lacks them and does the truncating (with
  triggers off: the append-only tables refuse TRUNCATE, migration 0017).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from shared.app import create_app
from shared.config import load_config, normalise_database_url
from shared.extensions import db as _db

# The local Stripe stand-in: `standin`, `receiver`, `base_url`, `gateway`.
# The SMTP capture and fake Twilio: `mailbox`, `sms_fake`, `outbox_app`.
pytest_plugins = ["tests.stripe_fixtures", "tests.messaging_fixtures"]

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite://")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:63799/0")


def _is_postgres() -> bool:
    return TEST_DATABASE_URL.startswith(("postgres", "postgresql"))


# The two roles scripts/test_services.sh creates (and _ensure_roles, if it did not).
OWNER_ROLE = "recovery_owner"
RUNTIME_ROLE = "recovery_runtime"


def as_role(url: str, role: str) -> str:
    """`url` (a PostgreSQL URL) signed in as `role`; the password is the role's name
    (the throwaway cluster trusts every local connection anyway)."""
    return make_url(url).set(username=role, password=role).render_as_string(hide_password=False)


def as_superuser(url: str) -> str:
    """`url`'s database, signed in as TEST_DATABASE_URL's (superuser) user."""
    base = make_url(normalise_database_url(TEST_DATABASE_URL))
    return (
        make_url(url)
        .set(username=base.username, password=base.password)
        .render_as_string(hide_password=False)
    )


def owner_url(database_url: str) -> str | None:
    """The owner role's URL for a runtime-role database URL, else None."""
    try:
        if make_url(database_url).username != RUNTIME_ROLE:
            return None
    except sa.exc.ArgumentError:  # not a URL at all: a test of bad settings
        return None
    return as_role(database_url, OWNER_ROLE)


def _ensure_roles(connection) -> None:
    """Create the two roles if this cluster lacks them (one started before they existed).

    Workers and other test runs may race to create them: losing the race is fine.
    """
    for role in (OWNER_ROLE, RUNTIME_ROLE):
        connection.execute(
            sa.text(
                f"""
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                        CREATE ROLE {role} LOGIN PASSWORD '{role}';
                    END IF;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END $$
                """
            )
        )


def make_config(database_url: str, **overrides):
    # An app on the runtime role migrates as the owner, as production does.
    owner = owner_url(database_url)
    if owner is not None:
        overrides.setdefault("MIGRATION_DATABASE_URL", owner)
    overrides.setdefault("REDIS_URL", TEST_REDIS_URL)
    return load_config(
        environ={},
        APP_ENV="test",
        DATABASE_URL=database_url,
        SECRET_KEY="test-secret-key-not-for-production",
        **overrides,
    )


def migrate_database(database_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(make_config(database_url))
    with app.app_context():
        upgrade()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def worker_id_str(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def database_template(tmp_path_factory, worker_id_str) -> str:
    """A migrated database for this worker: a template file (SQLite) or a database (PostgreSQL)."""
    if _is_postgres():
        base = make_url(normalise_database_url(TEST_DATABASE_URL))
        name = f"{base.database}_{worker_id_str}"
        admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            _ensure_roles(conn)
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}" OWNER {OWNER_ROLE}'))
        admin.dispose()
        # The owner owns the schema; nobody else may create in it (before PostgreSQL 15
        # everyone could), as docs/operations.md sets production up.
        schema = sa.create_engine(base.set(database=name), isolation_level="AUTOCOMMIT")
        with schema.connect() as conn:
            conn.execute(sa.text(f"ALTER SCHEMA public OWNER TO {OWNER_ROLE}"))
            conn.execute(sa.text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        schema.dispose()
        url = as_role(base.set(database=name).render_as_string(hide_password=False), RUNTIME_ROLE)
        migrate_database(url)  # as the owner, then granting the runtime role (make_config)
        _SEEDED_ROWS[url] = _rows_the_migrations_seeded(url)
        return url
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate_database(f"sqlite:///{path}")
    return str(path)


# Rows the migrations themselves insert (the VAT rate history, the document number
# sequences), per PostgreSQL test database: put back after every truncation, so each
# test starts from what a freshly migrated database holds, as it does on SQLite.
_SEEDED_ROWS: dict[str, dict[str, list[dict]]] = {}


def _rows_the_migrations_seeded(url: str) -> dict[str, list[dict]]:
    engine = sa.create_engine(as_superuser(url))
    with engine.connect() as conn:
        seeded = {
            table.name: [dict(row) for row in conn.execute(sa.select(table)).mappings()]
            for table in _db.metadata.sorted_tables
        }
    engine.dispose()
    return {name: rows for name, rows in seeded.items() if rows}


def _truncate_all(url: str) -> None:
    """Empty every table of `url`'s database, as the superuser (the runtime role cannot),
    then put back the rows the migrations seeded."""
    engine = sa.create_engine(as_superuser(url))
    tables = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
    with engine.begin() as conn:
        # Triggers off for this transaction: the append-only tables refuse TRUNCATE.
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        for name, rows in _SEEDED_ROWS.get(url, {}).items():
            table = _db.metadata.tables[name]
            conn.execute(table.insert(), rows)
            if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                conn.execute(
                    sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), :n)"),
                    {"n": max(row["id"] for row in rows)},
                )
    engine.dispose()


@pytest.fixture
def database_url(database_template, tmp_path) -> str:
    """A clean, migrated database for one test."""
    if _is_postgres():
        _truncate_all(database_template)
        return database_template
    target = Path(tmp_path) / "test.db"
    shutil.copyfile(database_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app(database_url):
    app = create_app(make_config(database_url))
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis; a test that needs one fails loudly (never skips) without it."""
    from shared.jobs.queues import redis_connection

    try:
        redis_connection(TEST_REDIS_URL).ping()
    except Exception as exc:  # pragma: no cover - environment problem
        pytest.fail(
            f"Redis is not reachable at {TEST_REDIS_URL} ({exc}); run the suite with `make test`"
        )
    return TEST_REDIS_URL


@pytest.fixture
def isolated_limiter(redis_url, worker_id_str):
    """Give an app the real rate limiter on the test Redis, under keys of this
    worker's own, emptied before and after, so tests never trip each other's limits.
    The process id is in the prefix too: two runs on one Redis (two checkouts, say)
    both have a worker gw0."""
    from shared.ratelimit import RateLimiter, use_limiter

    made = []

    def flush(limiter):
        keys = list(limiter.redis.scan_iter(match=f"{limiter.prefix}*"))
        if keys:
            limiter.redis.delete(*keys)

    def install(app):
        limiter = RateLimiter.from_url(
            redis_url, prefix=f"test-ratelimit:{worker_id_str}:{os.getpid()}:"
        )
        use_limiter(app, limiter)
        flush(limiter)
        made.append(limiter)
        return limiter

    yield install
    for limiter in made:
        flush(limiter)

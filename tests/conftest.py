"""Fixtures shared by the whole suite.

The database under test comes from TEST_DATABASE_URL (`make test` runs the
suite once on SQLite and once on a throwaway PostgreSQL cluster). The schema
is built by the real migrations, once per xdist worker:
- SQLite: a migrated template file is copied for every test (a fresh database
  per test, in milliseconds);
- PostgreSQL: one database per worker, every table truncated before each test
  (TRUNCATE does not fire the append-only row triggers).
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


def make_config(database_url: str, **overrides):
    return load_config(
        environ={},
        APP_ENV="test",
        DATABASE_URL=database_url,
        REDIS_URL=TEST_REDIS_URL,
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
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
        migrate_database(url)
        return url
    path = tmp_path_factory.mktemp("db") / "template.db"
    migrate_database(f"sqlite:///{path}")
    return str(path)


def _truncate_all(url: str) -> None:
    engine = sa.create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in _db.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
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
    worker's own, emptied before and after, so tests never trip each other's limits."""
    from shared.ratelimit import RateLimiter, use_limiter

    made = []

    def flush(limiter):
        keys = list(limiter.redis.scan_iter(match=f"{limiter.prefix}*"))
        if keys:
            limiter.redis.delete(*keys)

    def install(app):
        limiter = RateLimiter.from_url(redis_url, prefix=f"test-ratelimit:{worker_id_str}:")
        use_limiter(app, limiter)
        flush(limiter)
        made.append(limiter)
        return limiter

    yield install
    for limiter in made:
        flush(limiter)

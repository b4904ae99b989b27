"""Start-up checks that turn an unusable setting into one clear line."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from shared.config import ConfigError, redact_url
from shared.extensions import db


def check_database(app: Flask) -> None:
    """Connect once, so an unreachable DATABASE_URL fails now rather than on the first request."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (OperationalError, DBAPIError) as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise ConfigError(
                f"cannot connect to the database at {redact_url(str(url))}: {reason}"
            ) from None


def check_runtime_role(app: Flask) -> None:
    """Production on PostgreSQL refuses to run as a role that could rewrite history.

    The triggers that keep the ledger and the audit log append-only stop the
    application's own SQL, but not a role that owns the tables (it can DISABLE or DROP
    them), can TRUNCATE (no row trigger fires) or is a superuser. Such a role is
    refused at start, before it serves anyone: run migrations as the owner in
    MIGRATION_DATABASE_URL and the app as the runtime role (docs/operations.md).
    """
    if app.config.get("APP_ENV") != "production":
        return
    from shared.db_roles import runtime_role_problems

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        with db.engine.connect() as connection:
            problems = runtime_role_problems(connection)
            user = connection.scalar(text("SELECT current_user"))
    if problems:
        raise ConfigError(
            f"DATABASE_URL's role {user!r} could rewrite history ({'; '.join(problems)}): "
            "production runs as a runtime role that owns nothing; set MIGRATION_DATABASE_URL "
            "to the owner role and see docs/operations.md"
        )

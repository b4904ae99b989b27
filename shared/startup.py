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

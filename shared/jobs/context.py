"""Jobs run outside any request: they build the app once per worker process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from flask import Flask


@cache
def worker_app() -> Flask:
    from shared.app import create_app

    return create_app()


@contextmanager
def app_context() -> Iterator[Flask]:
    """An app context for one job; its database session ends with the job."""
    from shared.extensions import db

    app = worker_app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()

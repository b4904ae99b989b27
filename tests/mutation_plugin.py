"""A pytest plugin for `make mutate` only (loaded with `-p tests.mutation_plugin` from
[tool.mutmut] in pyproject.toml); the ordinary suite never loads it.

mutmut starts a fresh pytest session for every mutant, and each session would run the
real migrations again to build its SQLite template (over a second each, for a run of
well under a second of ledger tests). This migrates once per set of migrations and hands
every later session a copy of that file, which is exactly what the template would have
been: the migrations run no code under mutation.

Every ledger test builds a Flask app (tests/conftest.py `app`), and building one costs
several times what the test itself does: mostly compiling the URL rules and rendering
GOV.UK's page template to hash its inline script. Neither runs code under mutation, so
the app is built once (by the first test in mutmut's own process, and inherited by each
mutant's forked session) and every later test gets it back with a fresh engine on that
test's own freshly copied database (Flask-SQLAlchemy's init_app again, exactly as a new
app would make it). Only an app asked for with the same settings apart from the database
is reused; no ledger test changes the app's settings.

It also runs the property tests with fewer examples: every mutant reruns the tests that
reach its function, and a mutant that a hundred examples would catch is nearly always
caught by the first few dozen (the examples that fail are kept in .hypothesis/ and tried
first on the next run).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from hypothesis import settings
from sqlalchemy.engine import make_url

MIGRATIONS = Path("migrations")

settings.register_profile("mutation", max_examples=30, deadline=None)
settings.load_profile("mutation")


def _migrations_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS.rglob("*.py")):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cached_migrate(migrate):
    cache = Path(tempfile.gettempdir()) / f"mutmut-template-{_migrations_fingerprint()}.db"

    def migrate_database(database_url: str) -> None:
        url = make_url(database_url)
        if url.get_backend_name() != "sqlite" or not url.database:
            migrate(database_url)
            return
        if not cache.exists():
            # Built beside the cache and renamed into place, so two mutants starting at
            # once never copy a half-migrated file.
            partial = cache.with_suffix(f".{os.getpid()}.partial")
            partial.unlink(missing_ok=True)
            migrate(f"sqlite:///{partial}")
            os.replace(partial, cache)
        shutil.copyfile(cache, url.database)

    return migrate_database


_DATABASE_SETTINGS = ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI")


def _reused_app(create_app):
    built: dict[str, object] = {}

    def create(config):
        settings = {k: v for k, v in config.items() if k not in _DATABASE_SETTINGS}
        key = repr(sorted(settings.items()))
        app = built.get(key)
        if app is None:
            built.clear()
            app = built[key] = create_app(config)
            return app
        from shared.extensions import db

        # The previous test's engine is disposed by the `app` fixture's teardown;
        # init_app disposes it again, forgets it and makes this test's engine.
        app.config.update({k: config[k] for k in _DATABASE_SETTINGS if k in config})
        del app.extensions["sqlalchemy"]
        db.init_app(app)
        return app

    return create


def pytest_sessionstart(session) -> None:
    conftest = sys.modules.get("tests.conftest")
    if conftest is None or getattr(conftest.migrate_database, "mutation_cached", False):
        return
    cached = _cached_migrate(conftest.migrate_database)
    cached.mutation_cached = True
    conftest.migrate_database = cached
    conftest.create_app = _reused_app(conftest.create_app)

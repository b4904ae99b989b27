"""The application factory: one Flask app serving the portal and the back office."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter, Map

from shared.config import INSTANCE_DIR, PROJECT_ROOT, load_config
from shared.extensions import csrf, db, migrate
from shared.web import JinjaEnvironment


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: a row id, so at most PostgreSQL's integer. A bigger
    number in a URL is a 404 like any other missing row, not an out-of-range error
    from the database."""

    max = 2**31 - 1


class RowIdMap(Map):
    default_converters = {**Map.default_converters, "int": RowIdConverter}


class App(Flask):
    # Set on the class: Flask makes the Jinja environment the first time anything
    # (an extension's init_app, say) touches app.jinja_env.
    jinja_environment = JinjaEnvironment
    url_map_class = RowIdMap


def create_app(config: dict[str, object] | None = None) -> Flask:
    """Build the app from `config` (a mapping from load_config) or the environment."""
    if config is None:
        config = load_config()
    app = App(
        "shared",
        instance_path=str(INSTANCE_DIR),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        static_url_path="/static",
    )
    app.config.update(config)
    hops = int(app.config.get("TRUSTED_PROXY_HOPS", 0))
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind a load balancer the client's address is in X-Forwarded-For;
        # rate limits and audit rows need it. Only trust as many hops as we run,
        # or anyone could claim any address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    INSTANCE_DIR.mkdir(exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)

    from shared import (
        models,  # noqa: F401  (registers every table on db.metadata)
        web,
    )

    # The documents outgoing email may attach (shared/documents.py), registered here so
    # every process that builds the app, the outbox worker included, can render them.
    from shared.services import credit_notes, invoices  # noqa: F401

    web.init_app(app)

    from backoffice import bp as backoffice_bp
    from portal import bp as portal_bp

    app.register_blueprint(portal_bp)
    from portal.webhooks import bp as webhooks_bp

    app.register_blueprint(webhooks_bp)
    csrf.exempt(webhooks_bp)
    app.register_blueprint(backoffice_bp, url_prefix="/backoffice")

    from shared.health import bp as health_bp

    app.register_blueprint(health_bp)
    csrf.exempt(health_bp)

    from shared.jobs.outbox import install_enqueue_after_commit

    # Outbox rows are enqueued on RQ once their transaction commits, whichever
    # service wrote them (shared/jobs/outbox.py).
    install_enqueue_after_commit(app)

    from shared.cli import register_cli

    register_cli(app)
    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):  # pragma: no cover - trivial
    """Enforce foreign keys and let readers run beside the writer on SQLite."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()

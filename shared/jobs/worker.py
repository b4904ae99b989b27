"""The RQ worker class our Procfiles run: `rq worker -w shared.jobs.worker.AppWorker`.

RQ forks a child for every job. Built in the child, the Flask app (config,
blueprints, templates, SQLAlchemy models) costs over a second per job; built
once in the parent before the first fork, every child inherits it ready made.
The parent closes its database connections first, so no child shares a socket
with another (each opens its own on first use).

Modules a job imports on first use are imported here once, too: Twilio's SDK
loads most of itself lazily on a client's first `.messages`, which cost every
forked child about 0.6 s (measured for issue 14: 2.3 texts per second from two
workers, about 0.2 s per job once imported here).
"""

from __future__ import annotations

from rq.worker import Worker


class AppWorker(Worker):
    def work(self, *args, **kwargs):
        from shared.extensions import db
        from shared.jobs.context import worker_app

        app = worker_app()
        _refuse_a_role_that_could_rewrite_history(app)
        _import_what_jobs_would_import_in_every_child()
        with app.app_context():
            db.engine.dispose()
        return super().work(*args, **kwargs)


def _import_what_jobs_would_import_in_every_child() -> None:
    """Import only: no client is built and nothing is connected, so no socket is shared."""
    import twilio.rest.api.v2010.account.message  # noqa: F401 - SmsClient.send's lazy import

    import shared.jobs.outbox_batch  # noqa: F401 - the batch delivery job


def _refuse_a_role_that_could_rewrite_history(app) -> None:
    """Production workers stop, as the web does (wsgi.py), on a role that owns the tables."""
    import sys

    from shared.config import ConfigError
    from shared.startup import check_runtime_role

    try:
        check_runtime_role(app)
    except ConfigError as exc:
        sys.stderr.write(f"Configuration error: {exc}\n")
        raise SystemExit(2) from None

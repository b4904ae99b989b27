"""The RQ worker class our Procfiles run: `rq worker -w shared.jobs.worker.AppWorker`.

RQ forks a child for every job. Built in the child, the Flask app (config,
blueprints, templates, SQLAlchemy models) costs over a second per job; built
once in the parent before the first fork, every child inherits it ready made.
The parent closes its database connections first, so no child shares a socket
with another (each opens its own on first use).
"""

from __future__ import annotations

from rq.worker import Worker


class AppWorker(Worker):
    def work(self, *args, **kwargs):
        from shared.extensions import db
        from shared.jobs.context import worker_app

        app = worker_app()
        _refuse_a_role_that_could_rewrite_history(app)
        with app.app_context():
            db.engine.dispose()
        return super().work(*args, **kwargs)


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

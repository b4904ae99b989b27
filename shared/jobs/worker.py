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
        with app.app_context():
            db.engine.dispose()
        return super().work(*args, **kwargs)

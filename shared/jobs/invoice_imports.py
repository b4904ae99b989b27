"""Invoice files uploaded in the back office, imported by a worker.

The upload's transaction stores the file and a queued import row; after it commits
the view enqueues `import_invoices(import_id)` under the job id
"invoice-import-{id}" (unique, so a double enqueue runs it once). The job reloads the
row and runs it only while it is queued, so a job run twice imports once. If Redis
was down at upload, the import stays queued and the status page says so;
`sweep_queued_imports` (every few minutes, shared/jobs/cron_config.py) enqueues
imports left queued.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from shared import clock
from shared.jobs.context import app_context
from shared.jobs.queues import redis_connection

logger = logging.getLogger(__name__)

QUEUE = "low"  # a batch job: never ahead of security codes or card refunds
# 100,000 rows take well under a minute on PostgreSQL; far more is something wrong.
JOB_TIMEOUT_SECONDS = 30 * 60
RESULT_TTL_SECONDS = 24 * 3600
FAILURE_TTL_SECONDS = 7 * 24 * 3600
# Imports queued longer than this have lost their job (Redis was down at upload).
QUEUED_GRACE = timedelta(minutes=2)
_RETRYABLE = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def job_id(import_id: int) -> str:
    return f"invoice-import-{int(import_id)}"


def import_invoices(import_id: int) -> str | None:
    """Run a queued import (the worker's job); its status, or None if it had run."""
    from shared.services.invoice_import import importer

    def run() -> str | None:
        outcome = importer.run_stored_import(import_id)
        return None if outcome is None else outcome.status.value

    if has_app_context():
        return run()
    with app_context():
        return run()


def enqueue_import(import_id: int, *, app: Flask | None = None) -> bool:
    """Queue the job for an import that has just been committed; False (logged) when
    Redis cannot be reached or the job exists already: the sweeper tries later."""
    app = app or current_app._get_current_object()
    try:
        queue = Queue(QUEUE, connection=redis_connection(str(app.config["REDIS_URL"])))
        for _ in range(2):
            try:
                queue.enqueue(
                    import_invoices,
                    import_id,
                    job_id=job_id(import_id),
                    unique=True,
                    job_timeout=JOB_TIMEOUT_SECONDS,
                    result_ttl=RESULT_TTL_SECONDS,
                    failure_ttl=FAILURE_TTL_SECONDS,
                    description=f"import invoice file {import_id}",
                )
                return True
            except DuplicateJobError:
                try:
                    existing = Job.fetch(job_id(import_id), connection=queue.connection)
                except NoSuchJobError:
                    continue  # expired just now: try again
                if existing.get_status(refresh=False) not in _RETRYABLE:
                    return False  # waiting, running or done: it will do (or did)
                # A job that failed before the import started (the database was
                # down, the worker died): the import is still queued, so run it again.
                existing.delete()
        return False
    except (RedisError, OSError) as exc:
        logger.warning(
            "could not enqueue invoice import %s (%s: %s); the sweeper will",
            import_id,
            type(exc).__name__,
            exc,
        )
        return False


def sweep_queued_imports() -> int:
    """Enqueue imports left queued past QUEUED_GRACE; how many were enqueued."""
    from shared.extensions import db
    from shared.models import ImportStatus, InvoiceImport

    def sweep() -> int:
        ids = db.session.scalars(
            sa.select(InvoiceImport.id).where(
                InvoiceImport.status == ImportStatus.QUEUED,
                InvoiceImport.created_at < clock.utcnow() - QUEUED_GRACE,
            )
        ).all()
        db.session.rollback()
        return sum(enqueue_import(i) for i in ids)

    if has_app_context():
        return sweep()
    with app_context():
        return sweep()

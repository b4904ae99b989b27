"""An import's status and progress, written where the status page can see them while
the import's own transaction is still open.

The import writes everything in one transaction, so nothing it does is visible until
it commits. Its status and rows_processed are therefore written on a connection of
their own, committed at once (at most every PROGRESS_SECONDS). On PostgreSQL this
never waits on the import: the invoices it inserts hold only a key-share lock on the
import's row, which an update of other columns does not need. On SQLite, which has
one writer at a time, the progress connection writes only before the import starts
writing (while it validates); during the writing pass the count is kept in memory
for the command line's progress bar and the status page shows "importing" until the
commit. A database in memory (a second connection would be another database) gets no
progress connection at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import sqlalchemy as sa

from shared.extensions import db
from shared.models import ImportStatus, InvoiceImport
from shared.models.invoice_imports import IMPORT_TRANSITIONS

PROGRESS_SECONDS = 1.0
# The listener (the command line's progress bar) hears of every this many rows.
LISTENER_STEP = 500

Listener = Callable[[ImportStatus, int, int | None], None]


class Progress:
    def __init__(self, import_id: int, listener: Listener | None = None) -> None:
        self.import_id = import_id
        self.listener = listener
        self.status = ImportStatus.QUEUED
        self.done = 0
        self.total: int | None = None
        self._written_at = 0.0
        engine = db.engine
        self._sqlite = engine.dialect.name == "sqlite"
        in_memory = self._sqlite and engine.url.database in (None, "", ":memory:")
        self._connection = None
        if not in_memory:
            self._connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _can_write(self) -> bool:
        return self._connection is not None and not (
            self._sqlite and self.status == ImportStatus.IMPORTING
        )

    def move_to(self, status: ImportStatus, *, total: int | None = None) -> None:
        """Change status (an allowed transition) and start counting afresh."""
        previous = self.status
        self.status, self.done, self.total = status, 0, total
        if self.listener:
            self.listener(status, 0, total)
        allowed = [s.value for s, onward in IMPORT_TRANSITIONS.items() if status in onward]
        assert previous.value in allowed, f"{previous} cannot become {status}"
        # In memory there is no other connection: the import's own transaction it is.
        (self._connection or db.session).execute(
            sa.update(InvoiceImport)
            .where(InvoiceImport.id == self.import_id, InvoiceImport.status.in_(allowed))
            .values(status=status, rows_processed=0, rows_total=total)
        )
        self._written_at = time.monotonic()

    def advance(self, rows: int = 1) -> None:
        before, self.done = self.done, self.done + rows
        if self.listener and self.done // LISTENER_STEP != before // LISTENER_STEP:
            self.listener(self.status, self.done, self.total)
        if self._connection is None or self.done // 100 == before // 100:
            return
        now = time.monotonic()
        if self._can_write() and now - self._written_at >= PROGRESS_SECONDS:
            self._connection.execute(
                sa.update(InvoiceImport)
                .where(InvoiceImport.id == self.import_id)
                .values(rows_processed=self.done)
            )
            self._written_at = now

    def finish_pass(self) -> None:
        """Tell the listener where the pass ended (the last partial step)."""
        if self.listener:
            self.listener(self.status, self.done, self.total)

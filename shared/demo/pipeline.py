"""Overlap generating rows (Python, one core) with writing them (the database).

The generator runs in the caller's thread and hands finished chunks to writer
threads through a small bounded queue, so only a few chunks are ever in
memory. Each writer thread has its own connection and writes each chunk in
its own transaction. Chunks are independent (their keys were assigned up
front), so on PostgreSQL two writers keep two server backends busy while the
next chunk is generated. SQLite allows one writer at a time, so it gets one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

from shared.demo.generate import TABLES
from shared.demo.writers import writer_for

Rows = dict[str, list[tuple]]
OnWritten = Callable[[int, dict[str, int]], None]  # (debtors in the chunk, rows per table)

_STOP = object()


class WriterPool:
    def __init__(self, engine, writers: int, on_written: OnWritten):
        self.engine = engine
        self.on_written = on_written
        self.queue: queue.Queue = queue.Queue(maxsize=writers)
        self.errors: list[BaseException] = []
        self.threads = [
            threading.Thread(target=self._run, name=f"demo-writer-{n}", daemon=True)
            for n in range(writers)
        ]
        for thread in self.threads:
            thread.start()

    def submit(self, rows: Rows, debtors: int, last_ids: dict[str, int]) -> None:
        """Queue a chunk for writing; raises a writer's failure rather than queue more."""
        if self.errors:
            raise self.errors[0]
        self.queue.put((rows, debtors, last_ids))

    def close(self, *, raise_errors: bool = True) -> None:
        """Let the writers finish what is queued, stop them, and raise any failure."""
        for _ in self.threads:
            self.queue.put(_STOP)
        for thread in self.threads:
            thread.join()
        if raise_errors and self.errors:
            raise self.errors[0]

    def _run(self) -> None:
        # A writer that fails keeps taking chunks off the queue (and drops them),
        # so the generating thread can never block on a full queue.
        writer = None
        try:
            writer = writer_for(self.engine)
        except Exception as exc:
            self.errors.append(exc)
        while (item := self.queue.get()) is not _STOP:
            if writer is None or self.errors:
                continue
            rows, debtors, last_ids = item
            try:
                for table, columns in TABLES.items():
                    writer.write(table, columns, rows[table])
                writer.commit(last_ids)
            except Exception as exc:
                self.errors.append(exc)
                writer.rollback()
                continue
            try:
                self.on_written(debtors, {table: len(rows[table]) for table in TABLES})
            except Exception as exc:
                self.errors.append(exc)
        if writer is not None:
            writer.close()

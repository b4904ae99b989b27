"""Time building the day's print batch of 5,000 letters (BENCH_LETTERS to scale).

    .venv/bin/python bench/bench_print_batch.py
    BENCH_LETTERS=1000 BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:54329/bench \\
        .venv/bin/python bench/bench_print_batch.py

Sets up that many debtors, each with one letter waiting in the outbox as compose.py
writes it (four templates, every 50th letter long enough to run on to a second page),
then builds the batch as the 16:00 job does (print_batches.build_batch: render every
letter, store each PDF, merge into one duplex-ready PDF with a manifest). Prints the
wall time and how far the process's resident memory rose during the build (the
rendering processes' own peak separately), and two same-run yardsticks with their
ratios: rendering one letter at a time in this process, extrapolated to N (what a
build without the worker processes would spend on layout alone), and pypdf merging
the same stored PDFs with nothing else (the least any merge must do). Then withdraws
the batch, so the database can be reused. Never asserts on time.
"""

from __future__ import annotations

import io
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_SQLITE = Path(tempfile.gettempdir()) / "council-recovery-bench-print-batch.db"
SAMPLE = 20  # letters rendered one at a time for the yardstick


class PeakRss:
    """Resident memory before a block and its peak during it, sampled every 5 ms."""

    def __enter__(self):
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.before = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _rss(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self.page

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def rise_mb(self) -> float:
        return (self.peak - self.before) / 1e6


def setup(count: int) -> list[int]:
    from shared.extensions import db
    from shared.models import OutboxMessage
    from tests.integration.test_print_batch_world import LONG_BODY, composed_letter, make_debtors

    templates = ("reminder", "final_demand", "plan_payment_due", "letter_of_claim")
    made: list[OutboxMessage] = []
    for start in range(0, count, 1000):
        debtors = make_debtors(min(1000, count - start))
        for n, debtor in enumerate(debtors, start=start):
            made.append(
                composed_letter(
                    debtor,
                    template=templates[n % 4],
                    body=LONG_BODY[: 6000 if n % 50 == 0 else 400],
                    commit=False,
                )
            )
        db.session.commit()
    return [m.id for m in made]


def main() -> int:
    import sqlalchemy as sa
    from flask_migrate import upgrade
    from pypdf import PdfReader, PdfWriter

    from shared.app import create_app
    from shared.config import load_config, redact_url
    from shared.extensions import db
    from shared.models import LetterDocument, OutboxMessage
    from shared.services.actors import SYSTEM
    from shared.services.messages import letters, print_batches

    count = int(os.environ.get("BENCH_LETTERS", "5000"))
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        DEFAULT_SQLITE.unlink(missing_ok=True)
        url = f"sqlite:///{DEFAULT_SQLITE}"
    out = Path(tempfile.mkdtemp(prefix="print-batch-bench-"))
    app = create_app(load_config(environ={"DATABASE_URL": url, "PRINT_BATCH_DIR": str(out)}))
    print(f"database: {redact_url(url)}; letters: {count:,}; cores: {os.cpu_count()}")
    with app.app_context():
        upgrade()
        in_play = print_batches.batch_in_play()
        if in_play is not None:  # an earlier run's batch, on a reused database
            print_batches.withdraw_batch(SYSTEM, in_play.batch_id, "benchmark rerun")
        started = time.perf_counter()
        ids = setup(count)
        print(f"set up in {time.perf_counter() - started:.0f} s")

        sample = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids[:SAMPLE]))
        ).all()
        letters.render_letter(sample[0])  # warm up fonts and templates
        started = time.perf_counter()
        for message in sample:
            letters.render_letter(message)
        one_at_a_time = (time.perf_counter() - started) / len(sample) * count
        db.session.rollback()

        with PeakRss() as rss:
            started = time.perf_counter()
            built = print_batches.build_batch(SYSTEM)
            wall = time.perf_counter() - started
        children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1e3
        batch = built.batch
        size_mb = Path(batch.pdf_path).stat().st_size / 1e6
        print(
            f"build_batch: {wall:.1f} s ({count / wall:.0f} letters/s), "
            f"{batch.letter_count:,} letters, {batch.page_count:,} pages, PDF {size_mb:.1f} MB"
        )
        print(
            f"  memory: this process +{rss.rise_mb:.0f} MB (peak {rss.peak / 1e6:.0f} MB); "
            f"largest rendering process {children_mb:.0f} MB"
        )

        with PeakRss() as merge_rss:
            started = time.perf_counter()
            writer = PdfWriter()
            for start in range(0, len(ids), 200):
                for pdf in db.session.scalars(
                    sa.select(LetterDocument.pdf).where(
                        LetterDocument.outbox_message_id.in_(ids[start : start + 200])
                    )
                ):
                    for page in PdfReader(io.BytesIO(pdf)).pages:
                        writer.add_page(page)
            sink = io.BytesIO()
            writer.write(sink)
            merge_alone = time.perf_counter() - started
        del writer, sink
        print(
            f"yardstick, one letter at a time in this process x {count:,}: "
            f"{one_at_a_time:.1f} s; ratio build / that = {wall / one_at_a_time:.2f}"
        )
        print(
            f"yardstick, pypdf merging the stored PDFs alone: {merge_alone:.1f} s "
            f"(+{merge_rss.rise_mb:.0f} MB); ratio build / that = {wall / merge_alone:.1f}"
        )
        print_batches.withdraw_batch(SYSTEM, batch.batch_id, "benchmark")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

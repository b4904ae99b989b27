"""`flask --app wsgi bacs collect --date D [--out DIR]`: builds, stores and writes the
day's file once; a second run prints the first and writes nothing; a day Bacs does not
work is one line and exit 1."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from shared.models import BacsFile
from tests.bacs_standard18_reader import read
from tests.frozen_clock import frozen_clock
from tests.integration.test_bacs_files_world import make_collection, make_mandate

pytestmark = frozen_clock


def _collect(app, *args):
    return app.test_cli_runner().invoke(args=["bacs", "collect", *args])


def test_collect_writes_the_file_and_prints_its_summary_serial_and_hash(app, db, tmp_path):
    make_collection(make_mandate(), pence=2_500)
    make_collection(make_mandate(), pence=700, earliest=None)

    result = _collect(app, "--date", "2026-06-18", "--out", str(tmp_path))

    assert result.exit_code == 0, result.output
    stored = db.session.scalars(sa.select(BacsFile)).one()
    written = tmp_path / stored.file_name
    assert written.read_bytes() == stored.content.encode("ascii")
    assert read(written.read_bytes().decode("ascii")).debit_total == 2_500
    out = result.output
    assert "File 000001 for processing day 18 June 2026" in out
    assert "Regular collections (17): 1, £25.00" in out
    assert "Held back: 1, £7.00" in out and "No advance notice" in out
    assert f"SHA-256 {stored.sha256}" in out
    assert f"Wrote {written}" in out


def test_collecting_the_same_day_again_prints_the_file_and_writes_nothing(app, db, tmp_path):
    make_collection(make_mandate())
    first = tmp_path / "first"
    again = tmp_path / "again"
    _collect(app, "--date", "2026-06-18", "--out", str(first))

    result = _collect(app, "--date", "2026-06-18", "--out", str(again))

    assert result.exit_code == 0, result.output
    assert "already built on" in result.output and "nothing new was built" in result.output
    assert "File 000001" in result.output
    assert not again.exists()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BacsFile)) == 1


def test_a_day_bacs_does_not_work_is_one_line_and_exit_1(app, db, tmp_path):
    make_collection(make_mandate())
    result = _collect(app, "--date", "2026-06-20", "--out", str(tmp_path / "out"))

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: 2026-06-20 is a Saturday, not a Bacs processing day"
    ]
    assert not (tmp_path / "out").exists()


def test_the_default_folder_is_instance_bacs(app, db):
    make_collection(make_mandate())
    result = _collect(app, "--date", "2026-06-18")
    assert result.exit_code == 0, result.output
    stored = db.session.scalars(sa.select(BacsFile)).one()
    written = Path(app.instance_path) / "bacs" / stored.file_name
    try:
        assert f"Wrote {written}" in result.output
        assert written.read_bytes() == stored.content.encode("ascii")
    finally:
        written.unlink(missing_ok=True)

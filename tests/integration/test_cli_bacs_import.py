"""`flask --app wsgi bacs import FILE`: prints the kind and the counts, refuses a bad
file with one line and exit 1, and a second run of the same file changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from shared.models import BacsReport, LedgerEntry
from tests.bacs_report_samples import Return, arudd
from tests.frozen_clock import frozen_clock
from tests.integration.test_bacs_returns import make_world

pytestmark = frozen_clock


def test_importing_an_arudd_prints_what_was_done_and_again_changes_nothing(app, db, tmp_path):
    make_world(db)
    path = tmp_path / "ARUDD-00123.xml"
    path.write_bytes(
        arudd([Return("A00000001-01", "25.00", "B"), Return("XX0000000-99", "9.99", "0")])
    )
    runner = app.test_cli_runner()

    result = runner.invoke(args=["bacs", "import", str(path)])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        "ARUDD-00123.xml: ARUDD report, 2 advices: 1 acted on, 1 waiting for an officer."
    )
    entries = db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry))
    again = runner.invoke(args=["bacs", "import", str(path)])
    assert again.exit_code == 0, again.output
    assert "already imported on" in again.output and "by the system" in again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == entries


def test_a_report_for_another_service_user_is_refused_in_one_line(app, db, tmp_path):
    path = tmp_path / "other.xml"
    path.write_bytes(arudd([Return("A00000001-01", "25.00", "0")], sun="123456"))

    result = app.test_cli_runner().invoke(args=["bacs", "import", str(path)])

    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: other.xml: The report is for service user number 123456, not ours (999123). "
        "Nothing was imported."
    )
    assert "Traceback" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BacsReport)) == 0

"""`flask --app wsgi import bank-statement FILE`: prints the matching summary, posts a
file once, and refuses a bad file with the reason and a non-zero exit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import EntryKind, LedgerEntry
from tests.bank_statement_world import BAI2, CSV, build_world


@pytest.fixture
def runner(app, db):
    build_world()
    return app.test_cli_runner()


def _payments(db) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(LedgerEntry.kind == EntryKind.PAYMENT)
    )


def test_importing_a_statement_prints_a_summary_that_reconciles(runner, db):
    result = runner.invoke(args=["import", "bank-statement", str(CSV)])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    reconciles = "£10,000.00 + credits £3,167.15 - debits £15.00 = closing balance £13,152.15"
    assert f"Opening balance {reconciles}" in lines
    assert any(line.split() == ["Matched:", "5", "£905.50"] for line in lines)
    assert any(line.split() == ["Already", "known:", "0", "£0.00"] for line in lines)
    assert "DOES NOT RECONCILE" not in result.output
    assert _payments(db) == 5


def test_the_same_statement_in_another_file_posts_nothing_more(runner, db):
    runner.invoke(args=["import", "bank-statement", str(CSV)])
    result = runner.invoke(args=["import", "bank-statement", "--format", "bai2", str(BAI2)])

    assert result.exit_code == 0, result.output
    assert any(
        line.split()[:3] == ["Already", "known:", "10"] for line in result.output.splitlines()
    )
    assert _payments(db) == 5


def test_the_same_file_twice_says_it_was_imported_before(runner, db):
    runner.invoke(args=["import", "bank-statement", str(CSV)])
    result = runner.invoke(args=["import", "bank-statement", str(CSV)])
    assert result.exit_code == 0
    assert "was imported before" in result.output and "nothing posted again" in result.output


def test_a_bad_file_exits_non_zero_naming_the_row_and_imports_nothing(runner, db, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_bytes(CSV.read_bytes().replace(b",,120.00,", b",,12O.00,"))

    result = runner.invoke(args=["import", "bank-statement", str(broken)])

    assert result.exit_code != 0
    assert "broken.csv: Row 3 Credit: '12O.00' is not an amount" in result.output
    assert "Nothing was imported" in result.output
    assert _payments(db) == 0


def test_a_format_that_does_not_fit_the_file_is_refused(runner, db):
    result = runner.invoke(args=["import", "bank-statement", "--format", "camt053", str(CSV)])
    assert result.exit_code != 0
    assert "not well-formed XML" in result.output

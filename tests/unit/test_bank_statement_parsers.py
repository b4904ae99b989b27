"""Reading the sample statements in three formats, and refusing broken files with a
message that names the line or element at fault."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shared.domain.bank_statements import (
    Direction,
    StatementError,
    StatementFormat,
    detect_format,
    read,
)

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
CAMT = (SAMPLES / "statement-2026-12-03.camt053.xml").read_bytes()
BAI2 = (SAMPLES / "statement-2026-12-03.bai2").read_bytes()
CSV = (SAMPLES / "statement-2026-12-03.csv").read_bytes()

# The sample day, worked out by hand from the files: ten credits and one debit.
CREDITS_PENCE = 45_000 + 12_000 + 7_550 + 20_000 + 6_000 + 3_500 + 9_999 + 123_456 + 84_210 + 5_000


@pytest.mark.parametrize(
    ("content", "fmt"),
    [(CAMT, StatementFormat.CAMT053), (BAI2, StatementFormat.BAI2), (CSV, StatementFormat.CSV)],
)
def test_each_sample_reads_as_the_same_day_of_the_same_account(content, fmt):
    statement = read(content)

    assert detect_format(content) == fmt
    assert statement.format == fmt
    # The IBAN, the BAI2 account number and the CSV's sort code and account are one key.
    assert statement.bank_account == "60161331926819"
    assert (statement.from_date, statement.to_date) == (date(2026, 12, 3), date(2026, 12, 3))
    assert statement.opening_balance_pence == 1_000_000
    assert statement.credits_pence == CREDITS_PENCE
    assert statement.debits_pence == 1_500
    assert statement.closing_balance_pence == 1_000_000 + CREDITS_PENCE - 1_500
    assert [line.line_reference for line in statement.lines][:2] == [
        "FP26120300001",
        "FP26120300002",
    ]
    spaced = statement.lines[1]
    assert (spaced.amount_pence, spaced.remittance) == (12_000, "inv 0000 1235 thank you")
    assert statement.lines[3].payer_name == "ACME TRADING LTD"
    assert statement.lines[9].direction == Direction.DEBIT


def test_camt_keeps_the_bank_transaction_code_as_domain_family_and_subfamily():
    lines = read(CAMT).lines
    assert lines[0].transaction_code == "PMNT/RCDT/DMCT"
    assert lines[8].transaction_code == "PMNT/RDDT/PMDD"


def test_camt_refuses_an_entity_bomb_before_expanding_it():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Document><BkToCstmrStmt>&lol2;</BkToCstmrStmt></Document>"""
    with pytest.raises(StatementError, match="DTD or entities"):
        read(bomb)


def test_camt_names_the_entry_whose_amount_will_not_do():
    broken = CAMT.replace(b'<Amt Ccy="GBP">120.00</Amt>', b'<Amt Ccy="GBP">120.001</Amt>')
    with pytest.raises(StatementError, match=r"Ntry 2 Amt: '120.001' is not an amount"):
        read(broken)


def test_camt_refuses_a_foreign_currency_line():
    broken = CAMT.replace(b'<Amt Ccy="GBP">75.50</Amt>', b'<Amt Ccy="EUR">75.50</Amt>')
    with pytest.raises(StatementError, match="Ntry 3: the amount is in EUR, not GBP"):
        read(broken)


def test_camt_whose_closing_balance_disagrees_with_its_lines_is_refused():
    broken = CAMT.replace(b"13152.15", b"13152.16")
    with pytest.raises(StatementError, match="do not add up to the closing balance"):
        read(broken)


def test_bai2_with_a_wrong_control_total_is_refused():
    broken = BAI2.replace(b"49,2633430,13/", b"49,2633431,13/")
    with pytest.raises(StatementError, match="Not a valid BAI2 file"):
        read(broken)


def test_bai2_without_an_opening_balance_says_which_summary_is_missing():
    broken = BAI2.replace(b",010,1000000,,", b",072,1000000,,")
    with pytest.raises(StatementError, match=r"opening ledger balance \(type 010\) is missing"):
        read(broken)


def test_csv_row_with_both_debit_and_credit_is_named():
    broken = CSV.replace(b",,450.00,10450.00", b",1.00,450.00,10450.00")
    with pytest.raises(StatementError, match="Row 2: give the amount in Debit or in Credit"):
        read(broken)


def test_csv_row_with_an_impossible_date_is_named():
    broken = CSV.replace(
        b"03/12/2026,60-16-13,31926819,FP26120300002", b"31/02/2026,60-16-13,31926819,FP26120300002"
    )
    with pytest.raises(StatementError, match="Row 3: Date '31/02/2026' is not a date"):
        read(broken)


def test_csv_line_reference_twice_in_one_file_is_refused():
    broken = CSV.replace(b"FP26120300002", b"FP26120300001")
    with pytest.raises(
        StatementError, match="Row 3: line reference FP26120300001 is also on Row 2"
    ):
        read(broken)


@pytest.mark.parametrize("content", [b"", b"   \n", b"hello world", b"%PDF-1.7"])
def test_empty_or_unknown_files_are_refused(content):
    with pytest.raises(StatementError):
        read(content)


def test_a_format_named_by_hand_must_be_one_we_read():
    with pytest.raises(StatementError, match="Unknown format 'mt940'"):
        read(CSV, "mt940")

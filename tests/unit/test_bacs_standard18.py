"""The Standard 18 writer, read back by the independent reader (tests/bacs_standard18_reader.py)."""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.bacs import standard18 as s18
from tests.bacs_standard18_reader import ReadError, julian_day, read

LABELS = s18.Labels(
    service_user_number="123456",
    service_user_name="BORSETSHIRE CC",
    sort_code="200000",
    account_number="90909090",
    account_name="BORSETSHIRE DD",
)
DAY = date(2026, 6, 18)
CREATED = date(2026, 6, 17)


def rec(code="17", pence=2_500, ref="A00001234-01", name="ALEX SMITH", sort="112233"):
    return s18.Record(sort, "12345678", code, pence, ref, name)


def test_every_record_has_its_length_and_fields_in_their_positions():
    text, totals = s18.write_file(
        LABELS,
        42,
        DAY,
        CREATED,
        [rec("0N", 0, "A00000001-01"), rec("01", 1_000), rec("17", 2_345), rec("0C", 0)],
    )
    parsed = read(text)

    assert parsed.line_ending == "\r\n"
    assert parsed.volume_serial == "000042" and parsed.set_identifier == "000042"
    assert parsed.owner == "    123456    "
    assert parsed.file_identifier == "A123456S  1123456"
    assert parsed.processing_day == DAY and parsed.created == CREATED
    assert parsed.receiving_party == "999999" and parsed.hdr2 == "F0200000100"
    first = parsed.records[0]
    assert (first.sort_code, first.account_number, first.account_type) == (
        "112233",
        "12345678",
        "0",
    )
    assert (first.code, first.amount_pence, first.reference) == ("0N", 0, "A00000001-01")
    assert (first.origin_sort_code, first.origin_account) == ("200000", "90909090")
    assert first.user_name == "BORSETSHIRE CC" and first.name == "ALEX SMITH"
    assert [r.amount_pence for r in parsed.by_code("01", "17")] == [1_000, 2_345]


def test_the_contra_balances_the_debits_and_the_trailer_counts_them():
    text, totals = s18.write_file(LABELS, 1, DAY, CREATED, [rec(pence=p) for p in (1, 99, 12_345)])
    parsed = read(text)

    (contra,) = parsed.contras
    assert contra.amount_pence == 12_445 == sum(r.amount_pence for r in parsed.records)
    assert (contra.sort_code, contra.account_number) == ("200000", "90909090")
    assert (contra.reference, contra.name) == ("CONTRA", "BORSETSHIRE DD")
    assert (parsed.debit_total, parsed.credit_total) == (12_445, 12_445)
    assert (parsed.debit_count, parsed.credit_count, parsed.instruction_count) == (3, 1, 0)
    assert totals == s18.Totals(3, 12_445, 1, 12_445, 0)


def test_a_file_of_instructions_only_has_no_contra():
    text, totals = s18.write_file(LABELS, 1, DAY, CREATED, [rec("0N", 0), rec("0C", 0)])
    parsed = read(text)

    assert parsed.contras == []
    assert (parsed.debit_count, parsed.credit_count, parsed.instruction_count) == (0, 0, 2)


@pytest.mark.parametrize(
    ("day", "julian"),
    [
        (date(2026, 1, 1), " 26001"),
        (date(2026, 12, 31), " 26365"),
        (date(2028, 12, 31), " 28366"),  # a leap year
        (date(2026, 6, 18), " 26169"),
    ],
)
def test_dates_are_written_as_julian_days(day, julian):
    assert s18.julian(day) == julian
    assert julian_day(julian) == day


def test_lines_end_with_lf_when_configured():
    labels = s18.Labels(**{**LABELS.__dict__, "line_ending": "lf"})
    text, _ = s18.write_file(labels, 1, DAY, CREATED, [rec()])
    assert "\r" not in text
    assert read(text).line_ending == "\n"


def test_configured_label_details_go_in_their_positions():
    labels = s18.Labels(
        **{
            **LABELS.__dict__,
            "file_identifier": "B{sun}X  2{sun}",
            "hdr2": "F0100000100",
            "receiving_party": "B12345",
        }
    )
    parsed = read(s18.write_file(labels, 7, DAY, CREATED, [rec()])[0])
    assert parsed.file_identifier == "B123456X  2123456"
    assert parsed.hdr2 == "F0100000100"
    assert parsed.receiving_party == "B12345"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (rec(pence=100_000_000_000), "11 digits"),
        (rec(pence=0), "11 digits"),
        (rec("0N", 5), "no amount"),
        (rec("02"), "not one of"),
        (rec(name="Zoë O'Brien"), "outside the Bacs set"),
        (rec(name="A NAME LONGER THAN EIGHTEEN"), "longer than 18"),
        (rec(sort="11-22-33"), "6 digits"),
        (rec(ref="AB1"), "shorter than 6"),
    ],
)
def test_impossible_input_is_refused(record, message):
    with pytest.raises(s18.Standard18Error, match=message):
        s18.write_file(LABELS, 1, DAY, CREATED, [record])


def test_a_serial_outside_1_to_999999_is_refused():
    with pytest.raises(s18.Standard18Error, match="serial"):
        s18.write_file(LABELS, 1_000_000, DAY, CREATED, [rec()])


@pytest.mark.parametrize(
    ("raw", "mapped"),
    [
        ("Zoë O'Brien", "ZOE OBRIEN"),
        ("  mr   j. smith-jones ", "MR J. SMITH-JONES"),
        ("Siân Llŷr & Co", "SIAN LLYR & CO"),
        ("A+B (trading) Ltd, UK", "A B TRADING LTD UK"),
        ("Bartholomew Fotheringham", "BARTHOLOMEW FOTHER"),
    ],
)
def test_names_are_mapped_to_the_bacs_set_first(raw, mapped):
    assert s18.to_bacs_characters(raw) == mapped
    assert not set(s18.to_bacs_characters(raw)) - s18.BACS_CHARACTERS


def test_the_reader_notices_a_field_shifted_by_one():
    text, _ = s18.write_file(LABELS, 1, DAY, CREATED, [rec()])
    lines = text.split("\r\n")
    lines[4] = " " + lines[4][:-1]
    with pytest.raises(ReadError):
        read("\r\n".join(lines))

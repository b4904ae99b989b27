"""Reading Bacs reports: ARUDD, ADDACS, AUDDIS and DDIC on realistic files, one and
many records, ISO-8859-1 names, placeholders, amounts to the penny; and refusing a
malformed file, an XML bomb, another service user's report or a kind we do not read."""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.bacs.reports import ReportRefused, read_report, redacted_text
from shared.domain.bacs.reports_arudd import reason_from_words
from tests.bacs_report_samples import (
    ARUDD_WORDS,
    BOMB,
    SUN,
    Advice,
    Claim,
    Return,
    arudd,
    ddic,
    messaging,
)


def read(content: bytes):
    return read_report(content, service_user_number=SUN)


def test_an_arudd_with_one_return_keeps_reference_codes_amount_and_dates():
    report = read(arudd([Return("A00001234-01", "25.00", "0")], advice_number="00123"))

    assert (report.kind, report.report_date, report.advice_number) == (
        "arudd",
        date(2026, 6, 16),
        "00123",
    )
    [item] = report.items
    assert item.reference == "A00001234-01"  # space padding trimmed
    assert (item.reason_code, item.bacs_code, item.description) == ("0", "0128", "REFER TO PAYER")
    assert item.amount_pence == 2500
    assert item.original_processing_day == date(2026, 6, 12)
    assert item.transaction_code == "17"
    assert item.masked_account == "******58"


def test_an_arudd_with_many_returns_in_iso_8859_1_reads_accented_names_and_exact_pence():
    returns = [
        Return(f"A{n:08d}-01", pounds, reason, payer_name=name)
        for n, (pounds, reason, name) in enumerate(
            [
                ("1,234.56", "B", "JOSÉ NÚÑEZ"),
                ("0.01", "2", "ZOË BRONTË"),
                ("19.99", "A", "O'NEIL"),
            ],
            start=1,
        )
    ]
    content = arudd(returns, encoding="ISO-8859-1")
    assert "JOSÉ".encode("latin-1") in content

    items = read(content).items

    assert [i.amount_pence for i in items] == [123456, 1, 1999]
    assert [i.reason_code for i in items] == ["B", "2", "A"]
    assert [i.payer_name for i in items] == ["JOSÉ NÚÑEZ", "ZOË BRONTË", "O'NEIL"]


@pytest.mark.parametrize("reason", sorted(ARUDD_WORDS))
def test_every_arudd_description_gives_its_reason(reason):
    assert reason_from_words(ARUDD_WORDS[reason][1]) == reason


def test_arudd_words_that_share_phrases_are_told_apart():
    assert reason_from_words("INSTRUCTION CANCELLED - REFER TO PAYER") == "0"
    assert reason_from_words("NO ACCOUNT (OR WRONG ACCOUNT TYPE)") == "5"
    assert reason_from_words("Account closed") == "B"
    assert reason_from_words("SOMETHING NEW") == "?"


def test_addacs_keeps_new_details_in_memory_only_and_masks_the_old():
    report = read(
        messaging(
            "addacs",
            [
                Advice(
                    "A00000001-01",
                    "3",
                    new_sort_code="401234",
                    new_account="12345678",
                    new_name="ANN LEE",
                ),
                Advice("A00000002-01", "1"),
            ],
        )
    )
    moved, cancelled = report.items
    assert moved.reason_code == "3"
    assert moved.new_details.sort_code == "401234"
    assert moved.new_details.account_number == "12345678"
    assert "12345678" not in repr(moved) and "12345678" not in repr(moved.new_details)
    assert moved.masked_account == "******58"
    # "0" and " " placeholders are empty, not details.
    assert cancelled.new_details is None
    assert cancelled.description == "Instruction cancelled by payer"
    assert cancelled.effective_date == date(2026, 6, 16)


def test_auddis_reads_its_reason_codes():
    [item] = read(messaging("auddis", [Advice("A00000001-01", "L")])).items
    assert (item.reason_code, item.description) == ("L", "Incorrect payer's account details")


def test_a_ddic_claim_names_the_debits_claimed_and_a_withdrawn_claim():
    report = read(
        ddic(
            [
                Claim(
                    "A00000001-01",
                    "50.00",
                    ((date(2026, 5, 15), "25.00"), (date(2026, 6, 15), "25.00")),
                    reason="2",
                )
            ],
            cancellations=[Claim("A00000002-01", "10.00", ((date(2026, 6, 1), "10.00"),))],
        )
    )
    claim, withdrawn = report.items
    assert report.kind == "ddic"
    assert (claim.reason_code, claim.bacs_code, claim.amount_pence) == ("DDIC", "2", 5000)
    assert [(c.day, c.amount_pence) for c in claim.collections] == [
        (date(2026, 5, 15), 2500),
        (date(2026, 6, 15), 2500),
    ]
    assert not claim.claim_cancelled and withdrawn.claim_cancelled
    assert withdrawn.description.startswith("Claim withdrawn by the paying bank")


def test_an_empty_arudd_reads_as_no_items():
    assert read(arudd([])).items == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            arudd([Return("A1XXXXXX", "1.00")], sun="123456"),
            "The report is for service user number 123456, not ours (999123)",
        ),
        (
            messaging("addacs", [Advice("A1XXXXXX", "1")], sun="654321"),
            "The report is for service user number 654321, not ours (999123)",
        ),
        (
            ddic([Claim("A1XXXXXX", "1.00", ())], sun="111111"),
            "The report is for service user number 111111, not ours (999123)",
        ),
        (b"<BACSDocument><Data><ARUDD>", "The file is not well-formed XML (line 1, column 27)"),
        (BOMB, "The file declares a DTD or entities, which a Bacs report never does"),
        (b"", "The file is empty"),
        (b"<Document/>", "The file is not a Bacs report (its root element is Document)"),
        (
            messaging("awacs", []),
            "AWACS messaging report is not one this service imports (ADDACS and AUDDIS are)",
        ),
        (
            arudd([Return("A1XXXXXX", "12.345")]),
            "Returned debit 1: the amount '12.345' is not pounds and whole pence",
        ),
        (
            arudd([Return("A1XXXXXX", "ten")]),
            "Returned debit 1: the amount 'ten' is not a number of pounds",
        ),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_with_one_line(content, message):
    with pytest.raises(ReportRefused) as refused:
        read(content)
    assert str(refused.value) == message


def test_the_kept_copy_masks_every_account_number_and_sort_code():
    content = arudd([Return("A00000001-01", "25.00", account="66374958", sort_code="08-99-99")])
    kept = redacted_text(content)
    assert "66374958" not in kept and "08-99-99" not in kept
    assert 'number="******58"' in kept and 'adviceNumber="00123"' in kept
    claim = redacted_text(ddic([Claim("A00000001-01", "1.00", (), account="12345678")]))
    assert "12345678" not in claim and "<PayerAccount>******78</PayerAccount>" in claim

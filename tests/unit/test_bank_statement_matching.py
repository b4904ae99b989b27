"""Matching statement lines: references read through the slips people make, and only
when exactly one reference comes out; amount and payer name; settlements and debits."""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.bank_statements.matching import (
    AccountFacts,
    LineOutcome,
    NameAgreement,
    PayeeName,
    Rule,
    SettlementRules,
    decide,
    name_agreement,
    read_reference,
)
from shared.domain.bank_statements.model import Direction, StatementLine
from shared.domain.bank_statements.references import Level, ReferenceIndex

# A dense run of invoice numbers, as a council's finance system issues them, and accounts.
INVOICES = [(f"INV{n:08d}", n, 10_000 + n % 50) for n in range(1_200, 1_300)]
ACCOUNTS = [(f"A{n:08d}", 10_000 + n) for n in range(0, 50)] + [("A00012345", 99)]
INDEX = ReferenceIndex(INVOICES, ACCOUNTS)


def _line(remittance="", amount=1_000, payer="", code="FPI", direction=Direction.CREDIT):
    return StatementLine(
        line_reference="X1",
        booking_date=date(2026, 12, 3),
        amount_pence=amount,
        direction=direction,
        remittance=remittance,
        payer_name=payer,
        transaction_code=code,
        position="Row 2",
    )


def _read(text):
    reading = read_reference(INDEX, _line(text))
    return reading.level, [t.key for t in reading.targets]


@pytest.mark.parametrize(
    "typed",
    ["INV00001234", "inv00001234", "INV 0000 1234", "Inv-0000-1234", "PAYMENT INV00001234 THANKS"],
)
def test_case_spaces_and_punctuation_are_an_exact_match(typed):
    assert _read(typed) == (Level.EXACT, ["INV00001234"])


@pytest.mark.parametrize(
    "typed", ["INV1234", "INV 1234", "INV0000I234", "INVOOOO1234", "INV0000l234"]
)
def test_leading_zeros_left_out_and_look_alike_characters_are_accepted(typed):
    assert _read(typed) == (Level.LOOK_ALIKE, ["INV00001234"])


def test_an_account_reference_with_o_for_zero_names_the_account():
    assert _read("A0OO12345") == (Level.LOOK_ALIKE, ["A00012345"])


def test_a_transposition_that_only_one_real_number_explains_is_a_slip_match():
    # 1324 is not issued (the run is 1200-1299); swapping back gives 1234 and nothing else.
    assert _read("INV00001324") == (Level.SLIP, ["INV00001234"])


def test_a_missing_digit_that_several_numbers_explain_is_no_match():
    # INV0000123 could be 1230-1239 with a digit put back, or 1023, 1123...: ten or more.
    assert _read("INV0000123") == (None, [])


def test_a_wrong_digit_is_never_read_as_a_slip_of_another_number():
    # INV00001235 is itself issued: a slip is not looked for when the number is real.
    assert _read("INV00001235") == (Level.EXACT, ["INV00001235"])


def test_a_longer_join_of_words_does_not_override_the_reference_inside_it():
    assert _read("INV00001234 2 INVOICES") == (Level.EXACT, ["INV00001234"])


def test_an_invoice_and_its_own_account_named_together_are_the_invoice():
    level, keys = _read("A00000034 INV00001234")  # invoice 1234 is account 10034's
    assert (level, keys) == (Level.EXACT, ["INV00001234"])


def test_numbers_too_short_to_be_references_are_ignored():
    assert _read("INV 12 ROOM 5") == (None, [])


RULES = SettlementRules()


def _decide(line, accounts=None, owing=None):
    return decide(
        line,
        read_reference(INDEX, line),
        settlements=RULES,
        accounts=accounts or {},
        owing_exactly=owing or {},
    )


def test_a_debit_is_recorded_not_posted():
    assert _decide(_line("INV00001234", direction=Direction.DEBIT)).outcome == LineOutcome.DEBIT


@pytest.mark.parametrize(
    ("payer", "remittance", "code", "rule"),
    [
        ("STRIPE PAYMENTS UK LTD", "STRIPE PAYOUT po_1Qx", "BAC", Rule.SETTLEMENT_TEXT),
        ("COUNCIL", "BACS DD COLLECTION 0412", "BAC", Rule.SETTLEMENT_TEXT),
        ("", "CARDS 0412", "PMNT/CCRD/POSD", Rule.SETTLEMENT_CODE),
        ("", "INV00001234", "147", Rule.SETTLEMENT_CODE),
    ],
)
def test_card_and_direct_debit_settlements_are_recognised(payer, remittance, code, rule):
    decision = _decide(_line(remittance, payer=payer, code=code))
    assert (decision.outcome, decision.rule) == (LineOutcome.SETTLEMENT, rule)


def test_settlement_rules_are_configurable():
    rules = SettlementRules(codes=("XYZ",), patterns=(r"\bWORLDPAY\b",))
    assert rules.rule_for(_line("WORLDPAY 0412")) == Rule.SETTLEMENT_TEXT
    assert rules.rule_for(_line("STRIPE PAYOUT")) is None


def test_an_exact_reference_is_matched_to_its_invoice():
    decision = _decide(_line("INV00001234"))
    assert (decision.outcome, decision.account_id, decision.invoice_id) == (
        LineOutcome.MATCHED,
        10_034,
        1_234,
    )


def _facts(account_id, owed, forename="John", surname="Smith"):
    return {account_id: AccountFacts(account_id, PayeeName(forename, surname), owed)}


def test_a_slip_is_posted_only_when_the_amount_bears_it_out():
    line = _line("INV00001324", amount=4_500)
    agreeing = _decide(line, accounts=_facts(10_034, {1_234: 4_500}, surname="Nobody"))
    assert (agreeing.outcome, agreeing.rule) == (LineOutcome.MATCHED, Rule.REFERENCE_SLIP)

    disagreeing = _decide(line, accounts=_facts(10_034, {1_234: 9_000}, surname="Nobody"))
    assert disagreeing.outcome == LineOutcome.SUGGESTED
    assert [(c.account_id, c.invoice_id) for c in disagreeing.candidates] == [(10_034, 1_234)]


def test_two_different_accounts_named_are_suggested_not_guessed():
    decision = _decide(_line("A00000001 INV00001234"))
    assert decision.outcome == LineOutcome.SUGGESTED
    assert {c.account_id for c in decision.candidates} == {10_001, 10_034}


def test_amount_and_full_name_of_one_account_is_matched():
    line = _line("RENT", amount=6_000, payer="SMITH J")
    accounts = _facts(7, {70: 6_000}) | _facts(8, {80: 6_000}, forename="Mary", surname="Jones")
    decision = _decide(line, accounts=accounts, owing={6_000: [(70, 7), (80, 8)]})
    assert (decision.outcome, decision.account_id, decision.invoice_id) == (
        LineOutcome.MATCHED,
        7,
        70,
    )


def test_amount_and_a_name_two_accounts_share_is_suggested_with_both():
    line = _line("CAR PARK", amount=3_500, payer="D JONES")
    accounts = _facts(1, {10: 3_500}, "Daniel", "Jones") | _facts(2, {20: 3_500}, "Dafydd", "Jones")
    decision = _decide(line, accounts=accounts, owing={3_500: [(10, 1), (20, 2)]})
    assert decision.outcome == LineOutcome.SUGGESTED
    assert [c.account_id for c in decision.candidates] == [1, 2]


def test_amount_alone_with_a_name_that_disagrees_is_unmatched():
    line = _line("GIFT", amount=3_500, payer="UNKNOWN PAYER")
    decision = _decide(line, accounts=_facts(1, {10: 3_500}), owing={3_500: [(10, 1)]})
    assert decision.outcome == LineOutcome.UNMATCHED


@pytest.mark.parametrize(
    ("payer", "name", "expected"),
    [
        ("SMITH J", PayeeName("John", "Smith"), NameAgreement.FULL),
        ("MR JOHN A SMITH", PayeeName("John", "Smith"), NameAgreement.FULL),
        ("SMITH", PayeeName("John", "Smith"), NameAgreement.PARTIAL),
        ("SMITH M", PayeeName("John", "Smith"), NameAgreement.NONE),
        ("K O'BRIEN", PayeeName("Kate", "O'Brien"), NameAgreement.FULL),
        ("ACME TRADING LTD", PayeeName(organisation="Acme Trading Limited"), NameAgreement.FULL),
        (
            "ACME TRADING NORTH",
            PayeeName(organisation="Acme Trading Limited"),
            NameAgreement.PARTIAL,
        ),
        ("ACME", PayeeName(organisation="Acme Trading Limited"), NameAgreement.NONE),
        ("", PayeeName("John", "Smith"), NameAgreement.NONE),
    ],
)
def test_name_agreement(payer, name, expected):
    assert name_agreement(payer, name) == expected


def test_two_references_that_differ_only_in_punctuation_name_neither():
    index = ReferenceIndex([("INV-5000", 1, 11), ("INV5000", 2, 12)], [])
    assert read_reference(index, _line("INV5000")).targets == ()
    level, targets = index.lookup("INV5000")
    assert (level, {t.invoice_id for t in targets}) == (Level.EXACT, {1, 2})

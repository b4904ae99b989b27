"""The journal's double-entry rules (shared/domain/journal.py), without a database.

Expected lines are worked out by hand from the posting table in docs/journal.md."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.journal import (
    COLUMNS,
    Channel,
    EntryTotal,
    GlCodes,
    IncomeCodeRef,
    JournalError,
    Posting,
    build_journal,
    pounds,
    rows,
)

DAY = date(2026, 6, 17)
CODES = GlCodes(
    debtors_control="CTRL",
    vat_output="VAT",
    bank="BANK",
    card_clearing="CARD",
    direct_debit_clearing="DD",
    write_off="WOFF",
    suspense="SUSP",
)
WASTE = IncomeCodeRef("TRW", "I2001", "C100")


def _lines(*totals):
    journal = build_journal(DAY, totals, CODES)
    assert journal.debit_pence == journal.credit_pence
    return {
        (line.ledger_code, line.cost_centre): (line.debit_pence, line.credit_pence)
        for line in journal.lines
    }


def test_an_invoice_debits_control_and_credits_income_net_and_vat():
    assert _lines(EntryTotal(Posting.INVOICE, 12_000, DAY, vat_pence=2_000, income=WASTE)) == {
        ("CTRL", ""): (12_000, 0),
        ("I2001", "C100"): (0, 10_000),
        ("VAT", ""): (0, 2_000),
    }


def test_an_invoice_without_an_income_code_credits_suspense():
    assert _lines(EntryTotal(Posting.INVOICE, 5_000, DAY)) == {
        ("CTRL", ""): (5_000, 0),
        ("SUSP", ""): (0, 5_000),
    }


@pytest.mark.parametrize(
    "channel, account",
    [(Channel.CARD, "CARD"), (Channel.DIRECT_DEBIT, "DD"), (Channel.BANK, "BANK")],
)
def test_a_payment_debits_its_channel_and_credits_control(channel, account):
    assert _lines(EntryTotal(Posting.PAYMENT, -700, DAY, channel=channel)) == {
        ("CTRL", ""): (0, 700),
        (account, ""): (700, 0),
    }


def test_a_credit_note_debits_income_and_vat_and_credits_control():
    total = EntryTotal(Posting.CREDIT_NOTE, -1_200, DAY, vat_pence=-200, income=WASTE)
    assert _lines(total) == {
        ("CTRL", ""): (0, 1_200),
        ("I2001", "C100"): (1_000, 0),
        ("VAT", ""): (200, 0),
    }


def test_a_write_off_debits_the_write_off_code_under_the_income_cost_centre():
    assert _lines(EntryTotal(Posting.WRITE_OFF, -900, DAY, income=WASTE)) == {
        ("CTRL", ""): (0, 900),
        ("WOFF", "C100"): (900, 0),
    }


def test_a_refund_debits_control_and_credits_the_channel():
    assert _lines(EntryTotal(Posting.REFUND, 500, DAY, channel=Channel.CARD)) == {
        ("CTRL", ""): (500, 0),
        ("CARD", ""): (0, 500),
    }


def test_a_returned_refund_puts_the_money_back_in_the_channel():
    assert _lines(EntryTotal(Posting.REFUND_RETURNED, -300, DAY, channel=Channel.CARD)) == {
        ("CTRL", ""): (0, 300),
        ("CARD", ""): (300, 0),
    }


def test_a_reversal_mirrors_what_it_reverses():
    payment = EntryTotal(Posting.PAYMENT, -1_500, DAY, channel=Channel.DIRECT_DEBIT)
    returned = EntryTotal(Posting.PAYMENT, 1_500, DAY, reversal=True, channel=Channel.DIRECT_DEBIT)
    journal = build_journal(DAY, [payment, returned], CODES)
    by_description = {(line.ledger_code, line.description): line for line in journal.lines}
    assert by_description[("DD", "Reversed: payments received by Direct Debit")].credit_pence == (
        1_500
    )
    assert by_description[("CTRL", "Reversed: payments received by Direct Debit")].debit_pence == (
        1_500
    )
    assert by_description[("DD", "Payments received by Direct Debit")].debit_pence == 1_500


def test_transfers_pair_on_control_and_touch_nothing_else():
    journal = build_journal(
        DAY,
        [
            EntryTotal(Posting.TRANSFER_OUT, 2_000, DAY),
            EntryTotal(Posting.TRANSFER_IN, -2_000, DAY),
        ],
        CODES,
    )
    assert [(line.ledger_code, line.debit_pence, line.credit_pence) for line in journal.lines] == [
        ("CTRL", 2_000, 0),
        ("CTRL", 0, 2_000),
    ]


def test_a_transfer_that_does_not_pair_goes_to_suspense_loudly():
    journal = build_journal(DAY, [EntryTotal(Posting.TRANSFER_OUT, 2_000, DAY)], CODES)
    suspense = [line for line in journal.lines if line.ledger_code == "SUSP"]
    assert len(suspense) == 1 and suspense[0].credit_pence == 2_000
    assert "investigate" in suspense[0].description


def test_a_reversed_transfer_in_goes_to_suspense():
    assert _lines(EntryTotal(Posting.TRANSFER_IN, 800, DAY, reversal=True)) == {
        ("CTRL", ""): (800, 0),
        ("SUSP", ""): (0, 800),
    }


def test_nil_vat_makes_no_line():
    assert ("VAT", "") not in _lines(EntryTotal(Posting.INVOICE, 5_000, DAY, income=WASTE))


def test_a_day_with_nothing_is_an_empty_balanced_journal():
    journal = build_journal(DAY, [], CODES)
    assert journal.lines == () and journal.debit_pence == journal.credit_pence == 0
    assert rows(journal) == [list(COLUMNS)]


def test_vat_with_the_wrong_sign_or_on_a_payment_is_refused():
    with pytest.raises(JournalError, match="other sign"):
        build_journal(DAY, [EntryTotal(Posting.INVOICE, 100, DAY, vat_pence=-10)], CODES)
    with pytest.raises(JournalError, match="only invoices and credit notes"):
        build_journal(
            DAY,
            [EntryTotal(Posting.PAYMENT, -100, DAY, vat_pence=-10, channel=Channel.BANK)],
            CODES,
        )
    with pytest.raises(JournalError, match="channel"):
        build_journal(DAY, [EntryTotal(Posting.PAYMENT, -100, DAY)], CODES)


@pytest.mark.parametrize(
    "pence, text", [(0, "0.00"), (5, "0.05"), (100, "1.00"), (123_456_789, "1234567.89")]
)
def test_money_is_written_as_pounds_with_two_decimals(pence, text):
    assert pounds(pence) == text


def test_a_negative_amount_is_never_written():
    with pytest.raises(JournalError):
        pounds(-1)


def test_text_cells_never_start_a_formula():
    evil = IncomeCodeRef("=HYPERLINK(1)", "I1", "C1")
    journal = build_journal(DAY, [EntryTotal(Posting.WRITE_OFF, -100, DAY, income=evil)], CODES)
    descriptions = [row[4] for row in rows(journal)[1:]]
    assert all(d.startswith("Write-offs - =") for d in descriptions)
    code = IncomeCodeRef("X", "-I1", "@C1")
    journal = build_journal(DAY, [EntryTotal(Posting.INVOICE, 100, DAY, income=code)], CODES)
    assert ["'-I1", "'@C1"] in [row[2:4] for row in rows(journal)]


# --- any mix of entries balances ---------------------------------------------------

_incomes = st.one_of(st.none(), st.sampled_from([WASTE, IncomeCodeRef("LIC", "I3", "C2")]))
_days = st.sampled_from([DAY, date(2026, 6, 16), date(2026, 1, 1)])


@st.composite
def _totals(draw):
    posting = draw(st.sampled_from(list(Posting)))
    reversal = draw(st.booleans())
    magnitude = draw(st.integers(1, 10**10))
    # The ledger's sign: debits to the debtor positive; a reversal flips its original's.
    debit = posting in (Posting.INVOICE, Posting.REFUND, Posting.TRANSFER_OUT)
    amount = magnitude if debit != reversal else -magnitude
    vat = 0
    if posting in (Posting.INVOICE, Posting.CREDIT_NOTE):
        vat = draw(st.integers(0, magnitude)) * (1 if amount > 0 else -1)
    channel = None
    if posting in (Posting.PAYMENT, Posting.REFUND, Posting.REFUND_RETURNED):
        channel = draw(st.sampled_from(list(Channel)))
    return EntryTotal(
        posting=posting,
        amount_pence=amount,
        effective_date=draw(_days),
        reversal=reversal,
        vat_pence=vat,
        channel=channel,
        income=draw(_incomes),
        entry_count=draw(st.integers(1, 50)),
    )


@given(st.lists(_totals(), max_size=40))
def test_any_mix_of_entries_balances_and_moves_control_by_the_ledger_amounts(totals):
    journal = build_journal(DAY, totals, CODES)
    assert journal.debit_pence == journal.credit_pence
    control = sum(
        line.debit_pence - line.credit_pence for line in journal.lines if line.ledger_code == "CTRL"
    )
    assert control == sum(t.amount_pence for t in totals)
    for line in journal.lines:
        assert line.debit_pence >= 0 and line.credit_pence >= 0
        assert (line.debit_pence == 0) != (line.credit_pence == 0)
    assert journal.entry_count == sum(t.entry_count for t in totals)

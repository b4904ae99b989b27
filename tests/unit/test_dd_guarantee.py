"""The Direct Debit Guarantee keeps its fixed wording: only the organisation's name and
the notice period change (shared/domain/bacs/guarantee.py)."""

from __future__ import annotations

import pytest

from shared.domain.bacs import guarantee


def test_the_guarantee_has_the_standard_sentences_in_order():
    paragraphs = guarantee.paragraphs("Borsetshire County Council", 10)
    assert paragraphs == (
        "This Guarantee is offered by all banks and building societies that accept "
        "instructions to pay Direct Debits.",
        "If there are any changes to the amount, date or frequency of your Direct Debit "
        "Borsetshire County Council will notify you 10 working days in advance of your account "
        "being debited or as otherwise agreed. If you request Borsetshire County Council to "
        "collect a payment, confirmation of the amount and date will be given to you at the "
        "time of the request.",
        "If an error is made in the payment of your Direct Debit, by Borsetshire County Council "
        "or your bank or building society, you are entitled to a full and immediate refund of "
        "the amount paid from your bank or building society.",
        "If you receive a refund you are not entitled to, you must pay it back when "
        "Borsetshire County Council asks you to.",
        "You can cancel a Direct Debit at any time by simply contacting your bank or building "
        "society. Written confirmation may be required. Please also notify us.",
    )


def test_only_the_name_and_the_notice_period_vary():
    one = guarantee.paragraphs("Ambridge Council", 10)
    other = guarantee.paragraphs("Felpersham City Council", 14)
    assert [p.replace("Ambridge Council", "X").replace(" 10 ", " N ") for p in one] == [
        p.replace("Felpersham City Council", "X").replace(" 14 ", " N ") for p in other
    ]
    assert "14 working days in advance" in other[1]


def test_the_text_form_has_the_heading_then_every_paragraph():
    text = guarantee.as_text("Ambridge  Council ", 10)
    assert text.startswith("The Direct Debit Guarantee\n\n")
    for paragraph in guarantee.paragraphs("Ambridge Council", 10):
        assert paragraph in text


@pytest.mark.parametrize("name, days", [("", 10), ("   ", 10), ("Council", 0), ("Council", -1)])
def test_a_missing_name_or_a_notice_period_below_one_day_is_refused(name, days):
    with pytest.raises(ValueError):
        guarantee.paragraphs(name, days)

"""A provider's "paid" event must state the checkout's own amount and currency."""

import pytest

from shared.domain.card_events import ReportedPayment, payment_mismatch, reported_payment


def test_a_session_and_an_intent_are_read_from_their_own_fields():
    assert reported_payment(
        {"object": "checkout.session", "amount_total": 4_500, "currency": "gbp"}
    ) == ReportedPayment(4_500, "gbp")
    # What was taken wins over what was asked of the card.
    assert reported_payment(
        {"object": "payment_intent", "amount": 4_500, "amount_received": 4_000, "currency": "gbp"}
    ) == ReportedPayment(4_000, "gbp")
    assert reported_payment({"object": "payment_intent", "amount": 4_500}) == ReportedPayment(
        4_500, None
    )


@pytest.mark.parametrize("raw", ["4500", 45.0, True, None, [4_500]])
def test_anything_but_a_whole_number_is_an_amount_not_stated(raw):
    assert reported_payment({"amount_total": raw, "currency": "gbp"}).amount_pence is None


def test_the_same_amount_and_currency_in_any_case_is_no_mismatch():
    assert payment_mismatch(4_500, "gbp", ReportedPayment(4_500, "GBP")) is None


@pytest.mark.parametrize(
    "reported, reason",
    [
        (ReportedPayment(4_499, "gbp"), "it reported 4499 pence, not 4500"),
        (ReportedPayment(4_500, "usd"), "it reported currency 'usd', not 'gbp'"),
        (ReportedPayment(None, "gbp"), "it did not state the amount"),
        (ReportedPayment(4_500, None), "it did not state the currency"),
        (
            ReportedPayment(1, "eur"),
            "it reported 1 pence, not 4500; it reported currency 'eur', not 'gbp'",
        ),
    ],
)
def test_each_difference_is_named(reported, reason):
    assert payment_mismatch(4_500, "gbp", reported) == reason


def test_a_currency_that_is_not_text_is_not_stated():
    assert reported_payment({"amount_total": 500, "currency": 826}) == ReportedPayment(500, None)


def test_a_long_reported_currency_is_quoted_to_ten_characters():
    reported = ReportedPayment(500, "gbpgbpgbpgbpgbp")
    assert payment_mismatch(500, "gbp", reported) == (
        "it reported currency 'gbpgbpgbpg', not 'gbp'"
    )

"""Bank details as people type them: sort codes, account numbers and the name on
the account, with a specific GOV.UK-style message for each way they go wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.bacs import bank_account
from shared.domain.bacs.bank_account import (
    parse_account_name,
    parse_account_number,
    parse_sort_code,
)

MESSAGES = {
    value for name, value in vars(bank_account).items() if name.isupper() and isinstance(value, str)
}


@pytest.mark.parametrize(
    "typed", ["12-34-56", "12 34 56", "123456", " 123456 ", "12\u201334\u201356", "12\u00a034 56"]
)
def test_a_sort_code_is_read_with_or_without_separators(typed):
    assert parse_sort_code(typed) == ("123456", None)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Enter a sort code"),
        ("   ", "Enter a sort code"),
        ("- -", "Enter a sort code"),
        ("12345", "Sort code must be 6 digits long"),
        ("1234567", "Sort code must be 6 digits long"),
        ("12.34.56", "Enter a valid sort code like 309430"),
        ("12-34-5x", "Enter a valid sort code like 309430"),
        ("\u0661\u0662\u0663\u0664\u0665\u0666", "Enter a valid sort code like 309430"),
        ("12345\u00b2", "Enter a valid sort code like 309430"),
        ("\uff11\uff12\uff13\uff14\uff15\uff16", "Enter a valid sort code like 309430"),
    ],
)
def test_a_sort_code_that_is_not_six_digits_is_refused_saying_why(typed, error):
    assert parse_sort_code(typed) == (None, error)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("12345678", "12345678"),
        ("1234 5678", "12345678"),
        (" 12 34 56 78 ", "12345678"),
        ("1234567", "01234567"),
        ("123456", "00123456"),
        ("00733445", "00733445"),
    ],
)
def test_an_account_number_is_eight_digits_short_ones_padded_with_zeros(typed, number):
    assert parse_account_number(typed) == (number, None)


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("", "Enter your account number"),
        ("  ", "Enter your account number"),
        ("12345", "Account number must be between 6 and 8 digits"),
        ("123456789", "Account number must be between 6 and 8 digits"),
        ("1234567890", "Account number must be between 6 and 8 digits"),
        ("1234567O", "Enter a valid account number like 00733445"),
        ("12,345,678", "Enter a valid account number like 00733445"),
        (
            "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",
            "Enter a valid account number like 00733445",
        ),
        ("1234567\u00b9", "Enter a valid account number like 00733445"),
    ],
)
def test_an_account_number_that_is_not_6_to_8_digits_is_refused_saying_why(typed, error):
    assert parse_account_number(typed) == (None, error)


@given(st.text(max_size=30))
def test_any_text_parses_to_a_value_or_an_error_never_both(typed):
    for parse in (parse_sort_code, parse_account_number, parse_account_name):
        value, error = parse(typed)
        assert (value is None) != (error is None)
        # Messages are fixed wording, never what was typed: safe to show and to log.
        assert error is None or error in MESSAGES


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Mrs Jane O'Brien", "MRS JANE OBRIEN"),
        ("Mrs Jane O\u2019Brien", "MRS JANE OBRIEN"),
        ("  mr   j   bloggs  ", "MR J BLOGGS"),
        ("Smith, J", "SMITH J"),
        ("Jos\u00e9 N\u00fa\u00f1ez", "JOSE NUNEZ"),
        ("Stra\u00dfe 1", "STRASSE 1"),
        ("A&B Ltd.", "A&B LTD."),
        ("J Smith-Jones", "J SMITH-JONES"),
        ("J Smith\u2013Jones", "J SMITH-JONES"),
        ("S/O Khan", "S/O KHAN"),
        ("ABCDEFGHIJ KLMNOPQ", "ABCDEFGHIJ KLMNOPQ"),  # 18 characters
    ],
)
def test_an_account_name_becomes_what_bacs_carries(typed, name):
    assert parse_account_name(typed) == (name, None)


def test_an_account_name_longer_than_18_characters_asks_for_initials():
    name, error = parse_account_name("Mrs Jane Alexandra O'Brien")
    assert name is None
    assert "18 characters or fewer" in error and "initials" in error


def test_the_length_is_counted_after_punctuation_is_dropped():
    # 19 characters typed, 18 once the apostrophe goes.
    assert parse_account_name("Mrs Jane O'Briennn") == ("MRS JANE OBRIENNN", None)


@pytest.mark.parametrize("typed", ["", "   ", "''", "\u2019", "...", " - "])
def test_an_empty_account_name_is_refused(typed):
    assert parse_account_name(typed) == (None, "Enter the name on the account")


@pytest.mark.parametrize("typed", ["Zo\u00eb @ home", "\u540d\u524d", "J Smith #2", "@"])
def test_an_account_name_with_characters_bacs_cannot_carry_is_refused(typed):
    name, error = parse_account_name(typed)
    assert name is None
    assert error.startswith("Name on the account must only include letters a to z")

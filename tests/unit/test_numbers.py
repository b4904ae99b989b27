import pytest

from shared.domain.numbers import ascii_digits, parse_whole_number


@pytest.mark.parametrize("typed, number", [("12", 12), (" 7 ", 7), ("1,200", 1200), ("0", 0)])
def test_whole_numbers_are_read_with_commas_and_spaces_allowed(typed, number):
    assert parse_whole_number(typed) == number


@pytest.mark.parametrize(
    "typed",
    ["", "²", "١٢", "１２", "①", "-1", "+1", "1.5", "1e3", "twelve", "9" * 10, "9" * 5000],
)
def test_anything_but_up_to_nine_ascii_digits_is_not_a_whole_number(typed):
    # "²".isdigit() is true but int("²") fails; int() refuses over 4,300 digits.
    assert parse_whole_number(typed) is None
    assert not ascii_digits(typed)


def test_nine_digits_is_the_most_and_fits_an_integer_column():
    assert parse_whole_number("999999999") == 999_999_999 < 2**31 - 1


def test_nothing_typed_is_not_a_number():
    assert ascii_digits("") is False
    assert parse_whole_number("") is None
    assert parse_whole_number(None) is None
    assert parse_whole_number(" , ") is None


def test_the_digit_limit_asked_for_is_the_one_applied():
    assert parse_whole_number("12345", max_digits=4) is None
    assert parse_whole_number("1,234", max_digits=4) == 1234
    assert parse_whole_number("1234567890") is None  # ten digits: over the default nine

import pytest

from shared.money import MAX_AMOUNT_PENCE, MoneyFormatError, format_gbp, parse_gbp


@pytest.mark.parametrize(
    "typed, pence",
    [
        ("12", 1200),
        ("12.5", 1250),
        ("12.05", 1205),
        (" £1,234.56 ", 123456),
        ("0.01", 1),
        ("£0", 0),
    ],
)
def test_typed_amounts_are_read_as_integer_pence(typed, pence):
    assert parse_gbp(typed) == pence


@pytest.mark.parametrize(
    "typed, message",
    [
        ("", "Enter an amount"),
        ("-5", "more than £0"),
        ("12.345", "more than 2 decimal places"),
        ("ten pounds", "must be a number"),
        ("1e3", "must be a number"),
        ("12.", "must be a number"),
        ("١٢", "must be a number"),
        ("²", "must be a number"),
        ("10000000.01", r"must be £10,000,000.00 or less"),
        ("21474836.48", r"must be £10,000,000.00 or less"),
        ("9" * 5000, r"must be £10,000,000.00 or less"),
    ],
)
def test_unreadable_amounts_say_what_is_wrong(typed, message):
    with pytest.raises(MoneyFormatError, match=message):
        parse_gbp(typed)


def test_pence_are_formatted_as_pounds_with_thousands_separators():
    assert format_gbp(123456) == "£1,234.56"
    assert format_gbp(5) == "£0.05"
    assert format_gbp(-250) == "-£2.50"


def test_formatting_refuses_floats_so_they_cannot_creep_in():
    with pytest.raises(TypeError):
        format_gbp(12.5)


def test_the_largest_amount_is_ten_million_pounds_well_within_an_integer_column():
    assert parse_gbp("10,000,000.00") == MAX_AMOUNT_PENCE == 1_000_000_000 < 2**31 - 1
    assert parse_gbp("0010000000") == MAX_AMOUNT_PENCE

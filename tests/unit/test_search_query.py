"""What the case search box makes of what an officer types."""

from __future__ import annotations

import pytest

from shared.domain.search_query import SearchKind, SearchQuery, parse, phone_digits


def test_nothing_typed_is_an_empty_search():
    assert parse("   ").kind == SearchKind.EMPTY


def test_an_email_address_is_searched_for_in_lower_case():
    query = parse("  Linda.Rogers@Example.COM ")
    assert (query.kind, query.value) == (SearchKind.EMAIL, "linda.rogers@example.com")


@pytest.mark.parametrize("typed", ["SW1A 1AA", "sw1a1aa", " cv31 3uq", "B49 1JF", "M1 1AE"])
def test_a_postcode_is_compared_without_spaces_in_upper_case(typed):
    query = parse(typed)
    assert query.kind == SearchKind.POSTCODE
    assert query.value == typed.replace(" ", "").upper()


@pytest.mark.parametrize(
    "typed",
    [
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "+447700900123",
        "0044 7700 900123",
        "447700900123",
        "(07700) 900-123",
    ],
)
def test_a_mobile_number_in_any_usual_form_becomes_national_digits(typed):
    query = parse(typed)
    assert (query.kind, query.value) == (SearchKind.PHONE, "07700900123")


def test_a_landline_number_is_a_phone_search_too():
    assert parse("0121 496 0143").value == "01214960143"
    assert parse("+44 (0)20 7946 0123").value == "02079460123"


def test_a_number_that_is_too_short_is_not_a_phone_number():
    assert phone_digits("07700 9001") is None


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("A10000001", "A10000001"),
        ("a1000 0001", "A10000001"),
        ("inv 2000 0003", "INV20000003"),
        ("12345", "12345"),
    ],
)
def test_references_and_invoice_numbers_are_normalised_like_bill_lookup(typed, value):
    query = parse(typed)
    assert (query.kind, query.value) == (SearchKind.REFERENCE, value)


def test_one_word_is_a_surname_prefix():
    query = parse("Rog")
    assert (query.kind, query.surname, query.forename) == (SearchKind.NAME, "rog", "")


def test_two_words_are_a_forename_then_a_surname():
    query = parse("Linda  Rogers")
    assert (query.surname, query.forename, query.value) == ("rogers", "linda", "linda rogers")


def test_surname_comma_forename_is_understood():
    query = parse("Rogers, Lin")
    assert (query.surname, query.forename) == ("rogers", "lin")


def test_names_with_apostrophes_and_hyphens_are_names():
    assert parse("O'Brien-Smith").kind == SearchKind.NAME


# --- edges pinned by mutation testing (docs/mutation-testing.md) --------------------------


def test_nothing_typed_searches_for_nothing():
    assert parse(None) == parse("") == SearchQuery(SearchKind.EMPTY, "")


def test_three_words_are_a_forename_then_a_two_word_surname():
    query = parse("Alex  de Souza")
    assert (query.forename, query.surname) == ("alex", "de souza")


def test_a_surname_with_a_comma_in_the_forenames_splits_at_the_first_comma():
    query = parse("Smith, Alex, Jr")
    assert (query.surname, query.forename) == ("smith", "alex, jr")


def test_stray_symbols_search_names_for_the_text_as_typed_in_lower_case():
    assert parse("Smith & Co!") == SearchQuery(
        SearchKind.NAME, "smith & co!", surname="smith & co!"
    )


def test_a_number_with_a_country_code_but_too_few_digits_is_not_a_phone_number():
    assert phone_digits("+44 7700 90012") is None
    assert phone_digits("+44 7700 900123") == "07700900123"

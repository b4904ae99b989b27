"""Bank details as people type them, read into what Bacs needs.

Each parser returns (value, None) or (None, a GOV.UK-style error message for the
field). Sort codes come as "12-34-56", "12 34 56" or "123456"; account numbers with
spaces, and 6 or 7 digits are padded with leading zeros as banks tell their
customers to. Only the ASCII digits 0-9 count ("١٢٣٤٥٦" is not a sort code; see
shared/domain/numbers.py). A Bacs account name is at most 18 characters of A-Z, 0-9,
space and . - / &, so apostrophes and the like are dropped and accents taken off.
Messages never repeat what was typed, so they are safe to log.
"""

from __future__ import annotations

import re
import unicodedata

SORT_CODE_LENGTH = 6
ACCOUNT_NUMBER_LENGTH = 8
MIN_ACCOUNT_NUMBER_LENGTH = 6
ACCOUNT_NAME_MAX = 18

# Spaces (any kind) and dashes people put between the pairs of a sort code.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_NAME_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .-/&")
# Punctuation people type in names that Bacs does not carry: dropped ("O'Brien"
# -> "OBRIEN") or read as a space ("Smith,J" -> "SMITH J").
_NAME_DROPPED = frozenset("'\u2018\u2019\u201b`\u00b4\"\u201c\u201d!?()[]{}")
_NAME_AS_SPACE = frozenset(",;:_+*\u00b7")
_NAME_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212")

SORT_CODE_MISSING = "Enter a sort code"
SORT_CODE_INVALID = "Enter a valid sort code like 309430"
SORT_CODE_LENGTH_WRONG = "Sort code must be 6 digits long"
ACCOUNT_NUMBER_MISSING = "Enter your account number"
ACCOUNT_NUMBER_INVALID = "Enter a valid account number like 00733445"
ACCOUNT_NUMBER_LENGTH_WRONG = "Account number must be between 6 and 8 digits"
ACCOUNT_NAME_MISSING = "Enter the name on the account"
ACCOUNT_NAME_CHARACTERS = (
    "Name on the account must only include letters a to z, numbers, spaces, "
    "full stops, hyphens, slashes and ampersands"
)
ACCOUNT_NAME_TOO_LONG = (
    "Name on the account must be 18 characters or fewer: use initials for first names, "
    "like MRS J OBRIEN"
)


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_sort_code(text: str) -> tuple[str | None, str | None]:
    """The six digits of a sort code typed with or without spaces or dashes."""
    cleaned = _SEPARATORS.sub("", text or "")
    if not cleaned:
        return None, SORT_CODE_MISSING
    if not _ascii_digits(cleaned):
        return None, SORT_CODE_INVALID
    if len(cleaned) != SORT_CODE_LENGTH:
        return None, SORT_CODE_LENGTH_WRONG
    return cleaned, None


def parse_account_number(text: str) -> tuple[str | None, str | None]:
    """The eight digits of an account number; 6 or 7 digits get leading zeros."""
    cleaned = _SEPARATORS.sub("", text or "")
    if not cleaned:
        return None, ACCOUNT_NUMBER_MISSING
    if not _ascii_digits(cleaned):
        return None, ACCOUNT_NUMBER_INVALID
    if not MIN_ACCOUNT_NUMBER_LENGTH <= len(cleaned) <= ACCOUNT_NUMBER_LENGTH:
        return None, ACCOUNT_NUMBER_LENGTH_WRONG
    return cleaned.rjust(ACCOUNT_NUMBER_LENGTH, "0"), None


def parse_account_name(text: str) -> tuple[str | None, str | None]:
    """The account holder's name as Bacs carries it: "Mrs Jane O'Brien" -> "MRS JANE OBRIEN"."""
    name = " ".join(_bacs_characters(text or "").split())
    if not any(c.isalnum() for c in name):
        # Nothing typed, or only punctuation that Bacs drops.
        if name and not set(name) <= _NAME_ALLOWED:
            return None, ACCOUNT_NAME_CHARACTERS
        return None, ACCOUNT_NAME_MISSING
    if not set(name) <= _NAME_ALLOWED:
        return None, ACCOUNT_NAME_CHARACTERS
    if len(name) > ACCOUNT_NAME_MAX:
        return None, ACCOUNT_NAME_TOO_LONG
    return name, None


def _bacs_characters(text: str) -> str:
    # Upper-case first ("ß" becomes "SS"), then take accents off: "É" is "E" plus a
    # combining accent once decomposed, and the accent is dropped.
    out: list[str] = []
    for char in unicodedata.normalize("NFKD", text.upper()):
        if unicodedata.combining(char) or char in _NAME_DROPPED:
            continue
        if char in _NAME_AS_SPACE or char.isspace():
            out.append(" ")
        elif char in _NAME_DASHES:
            out.append("-")
        else:
            out.append(char)
    return "".join(out)

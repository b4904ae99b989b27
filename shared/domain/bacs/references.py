"""Direct Debit Instruction (mandate) references (DOMAIN.md, Bacs).

A reference is 6 to 18 characters of A-Z, 0-9, space, hyphen, full stop, ampersand
and slash; it starts with a letter or digit, has at least 6 letters or digits, is
not one character repeated, and does not start with DDIC (Bacs keeps those for
indemnity claims). It must be unique for the service user: the database's unique
index enforces that, these rules the rest.
"""

from __future__ import annotations

import string

MIN_LENGTH, MAX_LENGTH = 6, 18
_ALNUM = frozenset(string.ascii_uppercase + string.digits)
_ALLOWED = _ALNUM | frozenset(" -.&/")


def problems(reference: str) -> list[str]:
    """Why `reference` breaks the rules, in words; empty when it is a valid reference."""
    found: list[str] = []
    if not MIN_LENGTH <= len(reference) <= MAX_LENGTH:
        found.append(f"must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    bad = sorted({c for c in reference if c not in _ALLOWED})
    if bad:
        found.append("may only use capital letters, digits, spaces and - . & /")
    if reference and reference[0] not in _ALNUM:
        found.append("must start with a letter or a digit")
    if sum(c in _ALNUM for c in reference) < MIN_LENGTH:
        found.append(f"must have at least {MIN_LENGTH} letters or digits")
    if reference and len(set(reference)) == 1:
        found.append("must not be one character repeated")
    if reference.startswith("DDIC"):
        found.append("must not start with DDIC")
    return found


def is_valid(reference: str) -> bool:
    return not problems(reference)


def mandate_reference(account_reference: str, sequence: int) -> str:
    """The reference of the account's `sequence`th mandate: "A00001234-01".

    The account reference makes it unique across the council and lets an officer
    read the account off a bank's report; the sequence tells a replacement (new bank
    details) from the mandate it replaced.
    """
    if not 1 <= sequence <= 99:
        raise ValueError(f"a mandate sequence is 1 to 99, got {sequence}")
    reference = f"{account_reference.strip().upper()}-{sequence:02d}"
    wrong = problems(reference)
    if wrong:
        raise ValueError(f"mandate reference {reference!r} " + "; ".join(wrong))
    return reference

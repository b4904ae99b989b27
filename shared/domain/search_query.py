"""What an officer typed in the case search box, worked out from its shape.

One box takes a name, an account reference, an invoice number, a postcode, an
email address or a phone number. The order of the checks matters: a postcode
("AB1 2CD") and a phone number ("07700 900123") would both pass the looser
reference test, so they are tried first. No Flask or SQLAlchemy here.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class SearchKind(enum.StrEnum):
    EMPTY = "empty"
    EMAIL = "email"
    POSTCODE = "postcode"
    PHONE = "phone"
    REFERENCE = "reference"  # an account reference or an invoice number: both are tried
    NAME = "name"


@dataclass(frozen=True)
class SearchQuery:
    kind: SearchKind
    # The value in the form it is stored and compared in (see each detector).
    value: str
    # Names only: the surname (or organisation name) prefix and an optional forename prefix.
    surname: str = ""
    forename: str = ""


_WHITESPACE = re.compile(r"\s+")
_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")
_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_REFERENCE = re.compile(r"[A-Z0-9/\-]*[0-9][A-Z0-9/\-]*")
_NAME = re.compile(r"[^\W\d_][\w'\-. ,]*")


def normalise_reference(text: str) -> str:
    """As shared.services.bill_lookup.normalise_reference: upper case, no spaces."""
    return _WHITESPACE.sub("", text or "").upper()


def postcode_key(text: str) -> str:
    """As shared.models.postcode_key: upper case, letters and digits only."""
    return re.sub(r"[^A-Z0-9]", "", (text or "").upper())


def phone_digits(text: str) -> str | None:
    """A UK number as national digits ("+44 7700 900123" -> "07700900123"), or None.

    Stored numbers are grouped with spaces ("07700 900123", "020 7946 0123"), so
    the stored side is compared with its spaces removed.
    """
    digits = _PHONE_PUNCTUATION.sub("", text or "")
    for international in ("+44", "0044", "44"):
        if digits.startswith(international) and len(digits) >= len(international) + 10:
            digits = "0" + digits[len(international) :].removeprefix("0")
            break
    return digits if re.fullmatch(r"0\d{9,10}", digits) else None


def _name_parts(text: str) -> tuple[str, str]:
    """(surname, forename) from "Smith", "Alex Smith" or "Smith, Alex", lower case."""
    text = _WHITESPACE.sub(" ", text).strip().lower()
    if "," in text:
        surname, _, forename = text.partition(",")
        return surname.strip(), forename.strip()
    words = text.split(" ")
    if len(words) == 1:
        return words[0], ""
    return " ".join(words[1:]), words[0]


def parse(text: str) -> SearchQuery:
    """What kind of search `text` is, with its value normalised for that kind."""
    text = (text or "").strip()
    if not text:
        return SearchQuery(SearchKind.EMPTY, "")
    if "@" in text:
        return SearchQuery(SearchKind.EMAIL, text.lower())
    upper = normalise_reference(text)
    if _POSTCODE.fullmatch(upper):
        return SearchQuery(SearchKind.POSTCODE, postcode_key(text))
    phone = phone_digits(text)
    if phone is not None:
        return SearchQuery(SearchKind.PHONE, phone)
    if _REFERENCE.fullmatch(upper):
        return SearchQuery(SearchKind.REFERENCE, upper)
    if _NAME.fullmatch(text):
        surname, forename = _name_parts(text)
        return SearchQuery(
            SearchKind.NAME, _WHITESPACE.sub(" ", text).lower(), surname=surname, forename=forename
        )
    # Something else (stray symbols): a name search that will find nothing odd.
    return SearchQuery(SearchKind.NAME, text.lower(), surname=text.lower())

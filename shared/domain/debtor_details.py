"""A debtor's details as an officer types them: the checks, and what makes two accounts
likely to be the same debtor.

Pure rules, no Flask or SQLAlchemy. shared/services/debtor_accounts.py finds the
candidates with indexed SQL and asks `duplicate_reasons` why each one matched, so
the words an officer sees ("same email") and the rule behind them live here once.

Postcodes are checked for their shape only (the same shape as
shared.forms.validators.uk_postcode); whether one exists is for an address lookup
to say. Company numbers are Companies House's: eight characters, either eight
digits ("01234567", typed without its leading zero as often as with it) or two
letters and six digits ("SC123456" in Scotland, "NI..." in Northern Ireland, "OC..."
for an LLP).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

PERSON = "person"  # shared.models.DebtorKind's values
ORGANISATION = "organisation"
KINDS = (PERSON, ORGANISATION)
CHANNELS = ("email", "sms", "post")  # shared.models.Channel's values

# The widths of the debtor_accounts and addresses columns.
MAX_LENGTHS = {
    "title": 20,
    "forename": 100,
    "surname": 100,
    "organisation_name": 200,
    "finance_customer_id": 40,
    "email": 254,
    "line1": 120,
    "line2": 120,
    "town": 80,
    "county": 80,
}
FIELD_LABELS = {
    "title": "Title",
    "forename": "First name",
    "surname": "Last name",
    "organisation_name": "Organisation name",
    "finance_customer_id": "Finance system customer id",
    "email": "Email address",
    "line1": "Address line 1",
    "line2": "Address line 2",
    "town": "Town or city",
    "county": "County",
}

# --- postcodes ------------------------------------------------------------------------

# Outward code (A9, A99, AA9, AA99, A9A, AA9A), then a digit and two letters; and the
# one historical oddity. [A-Z] and [0-9] match ASCII only.
_POSTCODE = re.compile(r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA)")
_SPACES = re.compile(r"\s+")


def normalise_postcode(text: str | None) -> str | None:
    """A UK postcode as it is written on a letter ("sw1a1aa" -> "SW1A 1AA"), or None
    if `text` does not have a postcode's shape.

    Only spaces may be left out or added; other characters are not quietly dropped
    ("SW1A-1AA" is refused), and only ASCII is a postcode ("ſW1A 1AA" upper-cases to
    a real one, so it is checked before).
    """
    if not isinstance(text, str) or not text.isascii():
        return None
    key = _SPACES.sub("", text).upper()
    if not _POSTCODE.fullmatch(key):
        return None
    return f"{key[:-3]} {key[-3:]}"


def postcode_key(postcode: str) -> str:
    """The form postcodes are compared and indexed in: as shared.models.postcode_key."""
    return re.sub(r"[^A-Z0-9]", "", (postcode or "").upper())


# --- company numbers ------------------------------------------------------------------


class CompanyNumberError(ValueError):
    """Not a Companies House number; the message can be shown beside the field."""


COMPANY_NUMBER_MESSAGE = (
    "Enter a company number of 8 characters, like 01234567 or SC123456, "
    "as it is on the Companies House register"
)
_COMPANY_DIGITS = re.compile(r"[0-9]{1,8}")
_COMPANY_PREFIXED = re.compile(r"([A-Z]{2})([0-9]{1,6})")


def normalise_company_number(text: str) -> str:
    """A company number as Companies House writes it ("1234567" -> "01234567",
    "sc 123456" -> "SC123456"). Raises CompanyNumberError if it cannot be one.

    Leading zeros are the part people leave out, so a shorter number is padded
    with them, after its two-letter prefix if it has one.
    """
    if not isinstance(text, str) or not text.isascii():
        raise CompanyNumberError(COMPANY_NUMBER_MESSAGE)
    compact = _SPACES.sub("", text).upper()
    if _COMPANY_DIGITS.fullmatch(compact):
        number = compact.zfill(8)
    elif prefixed := _COMPANY_PREFIXED.fullmatch(compact):
        number = prefixed.group(1) + prefixed.group(2).zfill(6)
    else:
        raise CompanyNumberError(COMPANY_NUMBER_MESSAGE)
    if not number.lstrip("0") or number[2:] == "000000" and number[:2].isalpha():
        raise CompanyNumberError(COMPANY_NUMBER_MESSAGE)  # all zeros: no company has it
    return number


# --- the details ----------------------------------------------------------------------

# Deliberately loose, as shared.forms.validators.email_shape: a strict pattern only
# turns away unusual but valid addresses.
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class DebtorDetails:
    """Everything an officer enters for a debtor account, as plain values.

    Phones are checked and grouped by shared.services.contact_details
    .normalise_uk_phone (the rule the contact details pages use), not here.
    """

    kind: str
    title: str | None = None
    forename: str | None = None
    surname: str | None = None
    organisation_name: str | None = None
    company_number: str | None = None
    line1: str | None = None
    line2: str | None = None
    town: str | None = None
    county: str | None = None
    postcode: str | None = None
    email: str | None = None
    mobile_phone: str | None = None
    other_phone: str | None = None
    preferred_channel: str = "post"
    consent_email: bool = False
    consent_sms: bool = False
    finance_customer_id: str | None = None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def tidy(details: DebtorDetails) -> DebtorDetails:
    """Whitespace trimmed and collapsed, blanks as None, the fields of the other kind
    dropped (a person has no company number), the postcode and company number in
    their written form when they are valid (left as typed when not, for the check)."""
    text = {
        name: _text(getattr(details, name))
        for name in (
            "title",
            "forename",
            "surname",
            "organisation_name",
            "company_number",
            "line1",
            "line2",
            "town",
            "county",
            "postcode",
            "email",
            "mobile_phone",
            "other_phone",
            "finance_customer_id",
        )
    }
    if details.kind == ORGANISATION:
        text.update(title=None, forename=None, surname=None)
    else:
        text.update(organisation_name=None, company_number=None)
    if text["postcode"] is not None:
        text["postcode"] = normalise_postcode(text["postcode"]) or text["postcode"]
    if text["company_number"] is not None:
        with contextlib.suppress(CompanyNumberError):
            text["company_number"] = normalise_company_number(text["company_number"])
    return replace(
        details,
        **text,
        consent_email=bool(details.consent_email),
        consent_sms=bool(details.consent_sms),
    )


def details_problems(details: DebtorDetails) -> dict[str, str]:
    """Each field's problem in GOV.UK words, for tidied details (empty: they will do).

    Phones, and whether the preferred channel can be used, are the contact details
    rules' (shared.services.contact_details) and checked there.
    """
    problems: dict[str, str] = {}
    if details.kind not in KINDS:
        problems["kind"] = "Select whether the debtor is a person or an organisation"
    elif details.kind == PERSON and not details.surname:
        problems["surname"] = "Enter the debtor's last name"
    elif details.kind == ORGANISATION and not details.organisation_name:
        problems["organisation_name"] = "Enter the organisation's name"
    if not details.line1:
        problems["line1"] = "Enter the first line of the address"
    if not details.town:
        problems["town"] = "Enter the town or city"
    if not details.postcode:
        problems["postcode"] = "Enter the postcode"
    elif normalise_postcode(details.postcode) is None:
        problems["postcode"] = "Enter a real postcode, like SW1A 1AA"
    for name, most in MAX_LENGTHS.items():
        value = getattr(details, name)
        if value and len(value) > most and name not in problems:
            problems[name] = f"{FIELD_LABELS[name]} must be {most} characters or fewer"
    if details.company_number:
        try:
            normalise_company_number(details.company_number)
        except CompanyNumberError as exc:
            problems["company_number"] = str(exc)
    if details.email and "email" not in problems and not _EMAIL_SHAPE.fullmatch(details.email):
        problems["email"] = "Enter an email address in the correct format, like name@example.com"
    if details.finance_customer_id and not details.finance_customer_id.isprintable():
        problems["finance_customer_id"] = (
            "The finance system customer id must be letters, digits and punctuation only"
        )
    if details.preferred_channel not in CHANNELS:
        problems["preferred_channel"] = "Select how the debtor wants us to contact them"
    return problems


# --- likely duplicates ----------------------------------------------------------------

SAME_FINANCE_CUSTOMER_ID = "same finance customer id"
SAME_COMPANY_NUMBER = "same company number"
SAME_NAME_AND_POSTCODE = "same name and postcode"
SAME_EMAIL = "same email"
SAME_MOBILE = "same mobile"
SAME_PHONE = "same phone number"
# The order reasons are listed in: the surest first.
REASONS = (
    SAME_FINANCE_CUSTOMER_ID,
    SAME_COMPANY_NUMBER,
    SAME_NAME_AND_POSTCODE,
    SAME_EMAIL,
    SAME_MOBILE,
    SAME_PHONE,
)

_PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
_NOT_WORD = re.compile(r"[^\w ]+")
# Ways of writing the same organisation: "The Smith & Sons Company Limited" is
# "smith and sons co ltd".
_ORGANISATION_WORDS = {"limited": "ltd", "company": "co"}


def phone_digits(phone: str | None) -> str | None:
    """A stored or typed phone number as its digits, as the phone indexes compare it."""
    digits = _PHONE_PUNCTUATION.sub("", phone or "")
    return digits or None


def person_name_key(surname: str | None) -> str | None:
    return " ".join((surname or "").split()).casefold() or None


def organisation_name_key(name: str | None) -> str | None:
    """An organisation's name with the differences that do not matter taken out."""
    text = " ".join((name or "").casefold().split())
    text = text.replace("&", " and ")
    text = _NOT_WORD.sub(" ", text)
    text = " ".join(text.split())
    text = text.replace("public limited company", "plc")
    words = [_ORGANISATION_WORDS.get(word, word) for word in text.split()]
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words) or None


def _forenames_agree(one: str | None, other: str | None) -> bool:
    """Whether two first names could be the same person's: equal, one left out, or one
    an initial of the other ("J" and "John"). "Jane" and "John" Smith at one address
    are two people of one household, not a duplicate."""
    a = _NOT_WORD.sub("", (one or "").casefold()).strip()
    b = _NOT_WORD.sub("", (other or "").casefold()).strip()
    if not a or not b or a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) == 1 and long.startswith(short)


@dataclass(frozen=True)
class MatchKeys:
    """What two accounts are compared on, each in the form it is compared in."""

    kind: str
    forename: str | None
    surname: str | None  # casefolded
    organisation: str | None  # organisation_name_key
    postcodes: frozenset[str]  # postcode keys: every address the account has had
    email: str | None  # casefolded
    mobile: str | None  # digits
    phones: frozenset[str]  # digits of every phone number
    company_number: str | None
    finance_customer_id: str | None


def match_keys(
    *,
    kind: str,
    forename: str | None = None,
    surname: str | None = None,
    organisation_name: str | None = None,
    postcodes: Iterable[str] = (),
    email: str | None = None,
    mobile_phone: str | None = None,
    other_phone: str | None = None,
    company_number: str | None = None,
    finance_customer_id: str | None = None,
) -> MatchKeys:
    mobile = phone_digits(mobile_phone)
    return MatchKeys(
        kind=str(kind),
        forename=forename,
        surname=person_name_key(surname),
        organisation=organisation_name_key(organisation_name),
        postcodes=frozenset(k for k in (postcode_key(p) for p in postcodes) if k),
        email=(email or "").strip().casefold() or None,
        mobile=mobile,
        phones=frozenset(d for d in (mobile, phone_digits(other_phone)) if d),
        company_number=(company_number or "").strip().upper() or None,
        finance_customer_id=(finance_customer_id or "").strip() or None,
    )


def duplicate_reasons(new: MatchKeys, existing: MatchKeys) -> tuple[str, ...]:
    """Why an existing account is likely to be the debtor about to be created, surest
    first; empty if it is not."""
    reasons = []
    if new.finance_customer_id and new.finance_customer_id == existing.finance_customer_id:
        reasons.append(SAME_FINANCE_CUSTOMER_ID)
    if new.company_number and new.company_number == existing.company_number:
        reasons.append(SAME_COMPANY_NUMBER)
    if new.postcodes & existing.postcodes and new.kind == existing.kind:
        if new.kind == ORGANISATION:
            same_name = new.organisation is not None and new.organisation == existing.organisation
        else:
            same_name = (
                new.surname is not None
                and new.surname == existing.surname
                and _forenames_agree(new.forename, existing.forename)
            )
        if same_name:
            reasons.append(SAME_NAME_AND_POSTCODE)
    if new.email and new.email == existing.email:
        reasons.append(SAME_EMAIL)
    if new.mobile and new.mobile in existing.phones:
        reasons.append(SAME_MOBILE)
    if (new.phones - {new.mobile}) & existing.phones:
        reasons.append(SAME_PHONE)
    return tuple(reasons)

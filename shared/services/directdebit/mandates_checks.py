"""The checks a Direct Debit instruction must pass before it is stored, shared by the
sign-up service and the pages that ask for bank details one step at a time (so a bad
sort code is reported on the page where it was typed, not at the end).

Each problem is keyed by the field it belongs to, in words a payer can act on. No
message ever repeats the sort code or account number typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from shared.domain.bacs import bank_account, modulus
from shared.models.directdebit import MandateSource, ModulusOutcome
from shared.services.directdebit.bank_details import BankDetails
from shared.services.errors import InvalidRequest

HOLDER_NAME, SORT_CODE, ACCOUNT_NUMBER = "holder_name", "sort_code", "account_number"
SOLE_SIGNATORY, DATE_SIGNED, READ_BACK = "sole_signatory", "date_signed", "read_back"

INVALID_ACCOUNT = (
    "The sort code and account number do not match a real bank account. "
    "Check the numbers on your bank card or statement and enter them again"
)
NOT_SOLE_SIGNATORY = (
    "You cannot set up this Direct Debit online or by phone because more than one person "
    "needs to authorise debits from the account. Ask us for a paper Direct Debit form, "
    "to be signed by everyone who needs to authorise"
)
PAPER_NOT_SIGNED_BY_ALL = (
    "Confirm that the paper instruction is signed by everyone needed to authorise "
    "debits from the account"
)
READ_BACK_NEEDED = (
    "Confirm that you read the details and the Guarantee back to the payer and they confirmed them"
)
DATE_SIGNED_NEEDED = "Enter the date the payer signed the paper instruction"
DATE_SIGNED_FUTURE = "The date signed must be today or in the past"
PAPERLESS = (MandateSource.PORTAL, MandateSource.PHONE)


class MandateRefused(InvalidRequest):
    """The instruction cannot be taken as given: `problems` says why, field by field."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(next(iter(problems.values())))
        self.problems = dict(problems)


@dataclass(frozen=True)
class CheckedDetails:
    """Bank details as typed, read and modulus checked. `details` is None while there are
    problems; `modulus_outcome` says whether the tables knew the sort code."""

    holder_name: str | None
    details: BankDetails | None
    modulus_outcome: ModulusOutcome | None
    problems: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never the full details in a log or traceback
        return f"CheckedDetails({self.details!r}, {self.modulus_outcome}, {self.problems})"


def check_bank_details(holder_name: str, sort_code: str, account_number: str) -> CheckedDetails:
    """Read the three fields as people type them and modulus check the account.

    "invalid" is a problem on the account number; a sort code the tables do not
    know is accepted and marked "could not check" (DOMAIN.md)."""
    problems: dict[str, str] = {}
    name, error = bank_account.parse_account_name(holder_name or "")
    if error:
        problems[HOLDER_NAME] = error
    six, error = bank_account.parse_sort_code(sort_code or "")
    if error:
        problems[SORT_CODE] = error
    eight, error = bank_account.parse_account_number(account_number or "")
    if error:
        problems[ACCOUNT_NUMBER] = error
    if problems or six is None or eight is None:
        return CheckedDetails(name, None, None, problems)
    result = modulus.check(six, eight)
    if result.outcome == "invalid":
        return CheckedDetails(name, None, None, {ACCOUNT_NUMBER: INVALID_ACCOUNT})
    outcome = ModulusOutcome.VALID if result.outcome == "valid" else ModulusOutcome.COULD_NOT_CHECK
    return CheckedDetails(name, BankDetails(six, eight), outcome, {})


def instruction_problems(
    source: MandateSource,
    *,
    sole_signatory: bool,
    read_back_confirmed: bool,
    date_signed: date | None,
    today: date,
) -> dict[str, str]:
    """What the way the instruction was given still lacks: paperless needs a sole
    signatory (and, by phone, the read-back); paper needs every signature and a date."""
    problems: dict[str, str] = {}
    if source in PAPERLESS and not sole_signatory:
        problems[SOLE_SIGNATORY] = NOT_SOLE_SIGNATORY
    if source == MandateSource.PHONE and not read_back_confirmed:
        problems[READ_BACK] = READ_BACK_NEEDED
    if source == MandateSource.PAPER:
        if not sole_signatory:
            problems[SOLE_SIGNATORY] = PAPER_NOT_SIGNED_BY_ALL
        if date_signed is None:
            problems[DATE_SIGNED] = DATE_SIGNED_NEEDED
        elif date_signed > today:
            problems[DATE_SIGNED] = DATE_SIGNED_FUTURE
    return problems

"""Payers' bank details at rest: one Fernet token per mandate under
BANK_DETAILS_ENCRYPTION_KEYS (rotation as for TOTP_ENCRYPTION_KEYS,
docs/operations.md). Only this module opens a token; everything a person reads
shows the masked form."""

from __future__ import annotations

from dataclasses import dataclass

from shared.models.encrypted import configured_keys, decrypt, encrypt
from shared.services.reencryption import reencrypt_column
from shared.services.unit_of_work import use_case

SETTING = "BANK_DETAILS_ENCRYPTION_KEYS"


@dataclass(frozen=True)
class BankDetails:
    sort_code: str  # 6 digits
    account_number: str  # 8 digits

    def __post_init__(self) -> None:
        for name, value, length in (
            ("sort code", self.sort_code, 6),
            ("account number", self.account_number, 8),
        ):
            if not (len(value) == length and value.isascii() and value.isdigit()):
                raise ValueError(f"a {name} is {length} digits")

    def __repr__(self) -> str:  # never the full details in a log or traceback
        return f"BankDetails({self.masked_sort_code}, {self.masked_account})"

    @property
    def account_ending(self) -> str:
        return self.account_number[-2:]

    @property
    def masked_sort_code(self) -> str:
        return f"{self.sort_code[:2]}-**-**"

    @property
    def masked_account(self) -> str:
        return "******" + self.account_ending

    @property
    def formatted_sort_code(self) -> str:
        return f"{self.sort_code[:2]}-{self.sort_code[2:4]}-{self.sort_code[4:]}"


def seal(details: BankDetails) -> str:
    """The token stored in mandates.bank_details_encrypted."""
    return encrypt(f"{details.sort_code} {details.account_number}", configured_keys(SETTING))


def open_sealed(token: str) -> BankDetails:
    """The details in a stored token (UndecryptableValue names the setting if no key opens it)."""
    sort_code, account_number = decrypt(token, configured_keys(SETTING), setting=SETTING).split()
    return BankDetails(sort_code, account_number)


@use_case
def reencrypt_bank_details() -> int:
    """Re-encrypt every mandate's bank details not already under the first key of
    BANK_DETAILS_ENCRYPTION_KEYS; how many changed (rotation: docs/operations.md)."""
    return reencrypt_column(
        "mandates",
        "bank_details_encrypted",
        SETTING,
        audit_action="mandates.bank_details_reencrypted",
        audit_subject="mandate",
        what="mandate ids",
    )

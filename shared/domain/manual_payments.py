"""Which payments an officer records by hand need a second person to verify them.

Pure: no Flask, no SQLAlchemy. Methods are the stored strings of PaymentMethod.

A payment typed in by an officer is only their word until someone else (or the
bank statement) confirms the money arrived. While it only settles invoices, an
invented one clears a debt on paper; once it leaves credit on the account, that
credit could be paid out as a refund. So a hand-recorded payment that creates
credit stays unverified until a second officer or a bank statement line confirms
it, and unverified credit cannot be refunded or moved to another account.

Which methods:
- bank transfer and cash: nothing but the officer's say-so shows the money came in;
- cheque: also typed in by hand, and a cheque can still bounce after it is banked;
- card taken on the council's terminal: the reference is typed in by the officer,
  and nothing in this system shows the terminal took the money (the merchant
  settlement report does, like a bank statement), so it is treated the same way.
Online card payments and Direct Debit collections come from the provider, not
from an officer, and are never unverified.
"""

from __future__ import annotations

NEEDS_VERIFICATION = frozenset({"bank_transfer", "cash", "cheque", "telephone_card"})

BY_OFFICER, BY_BANK_STATEMENT = "officer", "bank_statement"


def needs_verification(method: str, amount_pence: int, allocated_pence: int) -> bool:
    """Whether a hand-recorded payment is held as unverified: one of the methods above
    that leaves some of its money as credit on the account."""
    return method in NEEDS_VERIFICATION and allocated_pence < amount_pence


def verifier_refusal(verifier_id: int | None, recorder_id: int | None) -> str | None:
    """Why this person may not verify the payment, or None if they may: anyone but
    the officer who recorded it."""
    if verifier_id is None:
        return "Only a member of staff can verify a payment"
    if verifier_id == recorder_id:
        return "You recorded this payment, so another officer must verify it"
    return None

"""Rules for refunds and write-offs that may need a second person's approval.

Pure: no Flask, no SQLAlchemy. Roles are their stored strings ("team_leader").
"""

from __future__ import annotations

from shared.domain.permissions import Permission, role_has

# Why a debt is no longer pursued (stored as the code; shown as the words).
WRITE_OFF_REASONS: dict[str, str] = {
    "uneconomical": "Uneconomical to pursue",
    "deceased_no_estate": "Deceased with no estate",
    "insolvency": "Insolvency",
    "statute_barred": "Statute barred",
    "vulnerable": "Vulnerable",
    "other": "Other",
}

CARD, BACS, CHEQUE = "card", "bacs", "cheque"
# How the money goes back: a card refund goes through Stripe, the others by the
# council's own payment run.
REFUND_ROUTES: dict[str, str] = {
    CARD: "Back to the card it was paid with",
    BACS: "BACS credit to a bank account",
    CHEQUE: "Cheque",
}


def needs_approval(amount_pence: int, limit_pence: int) -> bool:
    """Whether the amount is above the requester's delegated limit (the limit itself is fine)."""
    return amount_pence > max(limit_pence, 0)


def may_decide(decider_role: str, decider_id: int, requester_id: int) -> bool:
    """Whether this person may approve or reject the request: someone with APPROVE
    who is not the person who asked."""
    return role_has(decider_role, Permission.APPROVE) and decider_id != requester_id


def within_decider_limit(amount_pence: int, decider_limit_pence: int) -> bool:
    """An approver may only approve what they could have done themselves."""
    return not needs_approval(amount_pence, decider_limit_pence)

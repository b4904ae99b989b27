"""Rules for refunds, write-offs and credit notes that may need a second person's approval.

Pure: no Flask, no SQLAlchemy. Roles are their stored strings ("team_leader");
request kinds are the stored strings of ApprovalKind ("write_off").

Separation of duties: a delegated limit caps what one officer has asked for on
one account over a period (the running total), not one request, so five small
write-offs need the approval one large one would; a refund always needs a second
person; and nobody approves a refund of credit they created themselves.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import date

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


WRITE_OFF_KIND, CREDIT_NOTE_KIND, REFUND_KIND = "write_off", "credit_note", "refund"
DEFAULT_LIMIT_PERIOD_MONTHS = 12


def needs_approval(amount_pence: int, limit_pence: int) -> bool:
    """Whether the amount is above the requester's delegated limit (the limit itself is fine)."""
    return amount_pence > max(limit_pence, 0)


def may_decide(
    decider_role: str, decider_id: int, requester_id: int, credit_creator_ids: Collection[int] = ()
) -> bool:
    """Whether this person may approve or reject the request: someone with APPROVE
    who is not the person who asked, nor (for a refund) anyone who created the credit."""
    return (
        decider_refusal(decider_role, decider_id, requester_id, "decide", credit_creator_ids)
        is None
    )


def within_decider_limit(amount_pence: int, decider_limit_pence: int) -> bool:
    """An approver may only approve what they could have done themselves."""
    return not needs_approval(amount_pence, decider_limit_pence)


def period_start(today: date, months: int) -> date:
    """The first day a running total counts: the same day `months` months back (the
    month's last day when it has no such day, e.g. 31 August back 6 months is 28 or
    29 February)."""
    if months < 1:
        raise ValueError("a limit period is at least one month")
    month_index = today.year * 12 + (today.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def posts_at_once(kind: str, already_pence: int, amount_pence: int, limit_pence: int) -> bool:
    """Whether a request is posted without a second person.

    `already_pence` is what the same officer has already posted or asked for (pending
    or approved) of this kind on this account within the limit period. A write-off or
    credit note posts at once while that running total, with this request, stays
    within the officer's limit; a refund never does, whatever the limit.
    """
    if kind == REFUND_KIND:
        return False
    return not needs_approval(max(already_pence, 0) + amount_pence, limit_pence)


def decider_refusal(
    decider_role: str,
    decider_id: int,
    requester_id: int,
    verb: str = "approve",
    credit_creator_ids: Collection[int] = (),
) -> str | None:
    """Why this person may not decide the request, or None if they may.

    `credit_creator_ids` are the people who created the credit a refund would pay
    out (who recorded the payment, who asked for or approved the credit note): none
    of them may approve paying it out, however senior.
    """
    if decider_id == requester_id:
        return f"You cannot {verb} your own request: another team leader must"
    if not role_has(decider_role, Permission.APPROVE):
        return f"Only a team leader can {verb} requests"
    if decider_id in set(credit_creator_ids):
        return (
            f"You cannot {verb} a refund of credit you created (you recorded the payment "
            "or asked for or approved the credit note): another team leader must"
        )
    return None

"""The Direct Debit Guarantee, in its fixed wording (DOMAIN.md, Bacs).

The scheme rules allow only two things to vary: the name of the organisation
collecting and the notice it gives before a change. Everything that shows the
Guarantee (the portal's sign-up pages, the officer's phone script, the written
confirmation by email or letter) takes it from here, so the words cannot drift.
"""

from __future__ import annotations

HEADING = "The Direct Debit Guarantee"

_PARAGRAPHS = (
    "This Guarantee is offered by all banks and building societies that accept "
    "instructions to pay Direct Debits.",
    "If there are any changes to the amount, date or frequency of your Direct Debit "
    "{organisation} will notify you {notice} working days in advance of your account being "
    "debited or as otherwise agreed. If you request {organisation} to collect a payment, "
    "confirmation of the amount and date will be given to you at the time of the request.",
    "If an error is made in the payment of your Direct Debit, by {organisation} or your bank "
    "or building society, you are entitled to a full and immediate refund of the amount "
    "paid from your bank or building society.",
    "If you receive a refund you are not entitled to, you must pay it back when "
    "{organisation} asks you to.",
    "You can cancel a Direct Debit at any time by simply contacting your bank or building "
    "society. Written confirmation may be required. Please also notify us.",
)


def _checked(organisation: str, notice_working_days: int) -> tuple[str, int]:
    name = " ".join(str(organisation).split())
    if not name:
        raise ValueError("the Guarantee names the organisation collecting")
    if not isinstance(notice_working_days, int) or notice_working_days < 1:
        raise ValueError(f"a notice period is a whole number of days, got {notice_working_days!r}")
    return name, notice_working_days


def paragraphs(organisation: str, notice_working_days: int) -> tuple[str, ...]:
    """The Guarantee's paragraphs, in order, for `organisation` giving
    `notice_working_days` working days' notice of a change."""
    name, notice = _checked(organisation, notice_working_days)
    return tuple(p.format(organisation=name, notice=notice) for p in _PARAGRAPHS)


def as_text(organisation: str, notice_working_days: int) -> str:
    """The heading and paragraphs as plain text, for an email or letter."""
    body = "\n\n".join(paragraphs(organisation, notice_working_days))
    return f"{HEADING}\n\n{body}"

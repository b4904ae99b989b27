"""Checks before an invoice goes out: which drafts the accounts-receivable team must check,
who may check them, and the draft's allowed status changes.

Pure functions over plain values (roles as their stored strings, amounts in pence),
so the rules are tested without a database. A refusal says why, in words for the
person who asked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from shared.domain.permissions import Permission, role_has

SERVICE_DEPARTMENT = "service_department"


class DraftStatus(enum.StrEnum):
    DRAFT = "draft"  # being written by its raiser
    AWAITING_CHECK = "awaiting_check"  # in the checking queue
    RETURNED = "returned"  # sent back by a checker with a note; its raiser may change it
    ISSUED = "issued"  # numbered, on the ledger and sent: the draft is done
    CANCELLED = "cancelled"  # abandoned by its raiser before it was issued


# Every allowed change of status. DRAFT -> ISSUED is only for a raiser whose invoice
# needs no check (needs_check), which `may_issue_unchecked` decides.
TRANSITIONS: dict[DraftStatus, frozenset[DraftStatus]] = {
    DraftStatus.DRAFT: frozenset(
        {DraftStatus.AWAITING_CHECK, DraftStatus.ISSUED, DraftStatus.CANCELLED}
    ),
    DraftStatus.AWAITING_CHECK: frozenset({DraftStatus.ISSUED, DraftStatus.RETURNED}),
    DraftStatus.RETURNED: frozenset({DraftStatus.AWAITING_CHECK, DraftStatus.CANCELLED}),
    DraftStatus.ISSUED: frozenset(),
    DraftStatus.CANCELLED: frozenset(),
}

# The raiser may change the lines and details only while it is theirs to change.
EDITABLE = frozenset({DraftStatus.DRAFT, DraftStatus.RETURNED})

STATUS_WORDS = {
    DraftStatus.DRAFT: "Draft",
    DraftStatus.AWAITING_CHECK: "Waiting to be checked",
    DraftStatus.RETURNED: "Returned",
    DraftStatus.ISSUED: "Issued",
    DraftStatus.CANCELLED: "Cancelled",
}


class CheckRefused(ValueError):
    """The change is not allowed; the message says why."""


def can_move(current: DraftStatus, wanted: DraftStatus) -> bool:
    return wanted in TRANSITIONS[DraftStatus(current)]


def check_move(current: DraftStatus, wanted: DraftStatus) -> None:
    """Refuse a status change the table does not allow, saying what the draft is now."""
    if not can_move(current, wanted):
        raise CheckRefused(
            f"This invoice is {STATUS_WORDS[DraftStatus(current)].lower()}, so it cannot be "
            f"{_VERBS[DraftStatus(wanted)]}"
        )


_VERBS = {
    DraftStatus.DRAFT: "made a draft again",
    DraftStatus.AWAITING_CHECK: "sent for checking",
    DraftStatus.RETURNED: "returned",
    DraftStatus.ISSUED: "issued",
    DraftStatus.CANCELLED: "cancelled",
}


@dataclass(frozen=True)
class Raiser:
    staff_id: int
    role: str
    invoice_limit_pence: int


def needs_check(raiser: Raiser, total_pence: int) -> bool:
    """Whether someone else must check the invoice before it is issued: always for a
    service-department user; otherwise when its total is above the raiser's limit."""
    if raiser.role == SERVICE_DEPARTMENT:
        return True
    return total_pence > raiser.invoice_limit_pence


def why_checker_refused(checker_id: int, checker_role: str, raised_by: int) -> str | None:
    """Why this person may not check the invoice, or None when they may: they need the
    checking permission, must not have raised it, and must not be a service-department
    user (whose own invoices are always checked)."""
    if checker_role == SERVICE_DEPARTMENT:
        return "Service department users cannot check invoices"
    if not role_has(checker_role, Permission.CHECK_INVOICES):
        return "You do not have permission to check invoices"
    if checker_id == raised_by:
        return "You raised this invoice, so someone else must check it"
    return None


def why_unchecked_issue_refused(raiser: Raiser, actor_id: int, total_pence: int) -> str | None:
    """Why the raiser may not issue this draft themself, or None when they may."""
    if actor_id != raiser.staff_id:
        return "Only the person who raised this invoice can issue it without a check"
    if raiser.role == SERVICE_DEPARTMENT:
        return "Invoices from service departments are checked before they are issued"
    if needs_check(raiser, total_pence):
        return "This invoice is above your invoice limit, so send it for checking"
    return None

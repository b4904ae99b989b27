"""The back-office home's work list: what is waiting for this person today, each with
its count and the queue that works it, and for a team leader the team's totals.

Each count is the queue's own definition, counted for this person: their own diary
follow-ups (shared/services/contacts.py due_follow_ups), the plans they may decide
(a plan above the team-leader total only for someone who may approve), the requests
they may approve (shared/domain/approvals.py: not their own, within their own limit,
and no refund of credit they created), and the invoices they may check (not their
own). The shared queues (Direct Debit returns, unallocated payments) are everyone's.
Only what the person's role may open is counted at all. Every count is one COUNT
through an index the queue itself reads by, so the page costs a few index scans
however large the book. The team's totals are the dashboard's queue counts
(shared/reports/dashboard.py queues), not a copy of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared.domain import approvals as approval_rules
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import (
    ApprovalKind,
    ApprovalRequest,
    ApprovalStatus,
    Arrangement,
    ArrangementStatus,
    ContactEvent,
    LedgerEntry,
    StaffRole,
    StaffUser,
    UnallocatedCredit,
)
from shared.reports import dashboard
from shared.reports.dashboard import QueueCount
from shared.services.directdebit import returns_queue
from shared.services.invoices import reads as invoice_reads


@dataclass(frozen=True)
class WorkItem:
    key: str
    label: str
    count: int
    endpoint: str  # the queue's page, which this person may open
    hint: str = ""


@dataclass(frozen=True)
class WorkList:
    today: date
    items: list[WorkItem]  # this person's, in the order they are worked
    # A team leader's: the dashboard's queue counts they may open; empty for anyone else.
    team: list[QueueCount]

    @property
    def team_leader(self) -> bool:
        return bool(self.team)


# --- this person's counts (each small, for the dashboard to reuse) ----------------------------


def follow_ups(staff_id: int, today: date) -> tuple[int, int]:
    """This officer's diary follow-ups overdue and due today that nothing later on the
    account has dealt with (the diary's own definition), in one read of the
    (staff_id, follow_up_date) index."""
    later = sa.orm.aliased(ContactEvent)
    overdue, due = db.session.execute(
        sa.select(
            sa.func.count().filter(ContactEvent.follow_up_date < today),
            sa.func.count().filter(ContactEvent.follow_up_date == today),
        ).where(
            ContactEvent.staff_id == staff_id,
            ContactEvent.follow_up_date.is_not(None),
            ContactEvent.follow_up_date <= today,
            ~sa.exists().where(
                later.account_id == ContactEvent.account_id,
                later.staff_id == staff_id,
                later.id > ContactEvent.id,
            ),
        )
    ).one()
    return int(overdue or 0), int(due or 0)


def plans_to_decide(role: str) -> int:
    """Proposed plans this role may decide: a plan above the team-leader total only
    for someone who may approve (shared/services/plans/decisions.py)."""
    query = sa.select(sa.func.count()).where(Arrangement.status == ArrangementStatus.PROPOSED)
    if not role_has(role, Permission.APPROVE):
        query = query.where(Arrangement.needs_team_leader.is_(False))
    return int(db.session.scalar(query) or 0)


def approvals_for(staff: StaffUser) -> int:
    """Pending requests this person may approve: someone else's, within their own limit
    for the kind (credit notes share the write-off limit), and for a refund only of
    credit they did not create (shared/services/approvals.py approve)."""
    if not role_has(staff.role, Permission.APPROVE):
        return 0
    pending = (
        ApprovalRequest.status == ApprovalStatus.PENDING,
        ApprovalRequest.requested_by_staff_id != staff.id,
    )
    reductions = db.session.scalar(
        sa.select(sa.func.count()).where(
            *pending,
            ApprovalRequest.kind.in_([ApprovalKind.WRITE_OFF, ApprovalKind.CREDIT_NOTE]),
            ApprovalRequest.amount_pence <= max(staff.write_off_limit_pence, 0),
        )
    )
    # Refunds wait for few people at once: read them, then who created each credit.
    refunds = db.session.execute(
        sa.select(ApprovalRequest.requested_by_staff_id, ApprovalRequest.payload).where(
            *pending,
            ApprovalRequest.kind == ApprovalKind.REFUND,
            ApprovalRequest.amount_pence <= max(staff.refund_limit_pence, 0),
        )
    ).all()
    creators = _credit_creators(
        {int((p or {}).get("source_entry_id") or 0) for _, p in refunds} - {0}
    )
    allowed = sum(
        approval_rules.may_decide(
            str(staff.role.value),
            staff.id,
            requester,
            creators.get(int((payload or {}).get("source_entry_id") or 0), ()),
        )
        for requester, payload in refunds
    )
    return int(reductions or 0) + allowed


def _credit_creators(entry_ids: set[int]) -> dict[int, set[int]]:
    """Who created each credit (shared/services/approvals.py credit_creators), for many
    credits in two reads."""
    people: dict[int, set[int]] = {entry_id: set() for entry_id in entry_ids}
    if not entry_ids:
        return people
    for entry_id, made_by in db.session.execute(
        sa.select(LedgerEntry.id, LedgerEntry.created_by_staff_id).where(
            LedgerEntry.id.in_(entry_ids)
        )
    ):
        people[entry_id].add(made_by)
    for entry_id, asked, decided in db.session.execute(
        sa.select(
            ApprovalRequest.ledger_entry_id,
            ApprovalRequest.requested_by_staff_id,
            ApprovalRequest.decided_by_staff_id,
        ).where(ApprovalRequest.ledger_entry_id.in_(entry_ids))
    ):
        people[entry_id].update((asked, decided))
    return {entry_id: {p for p in who if p is not None} for entry_id, who in people.items()}


def unallocated_count() -> int:
    """Payments and credits with money not yet allocated (the unallocated queue)."""
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(UnallocatedCredit)) or 0)


# --- the work list -----------------------------------------------------------------------------


def for_staff(staff: StaffUser, today: date) -> WorkList:
    """What is waiting for this person today, only from queues their role may open; and
    for a team leader, the team's totals."""
    role = str(staff.role.value)
    items: list[WorkItem] = []

    def may(*permissions: Permission) -> bool:
        return role_has(role, *permissions)

    if may(Permission.WORK_CASES):
        overdue, due = follow_ups(staff.id, today)
        items.append(
            WorkItem("follow_ups_overdue", "Diary follow-ups overdue", overdue, "backoffice.diary")
        )
        items.append(
            WorkItem("follow_ups_due", "Diary follow-ups due today", due, "backoffice.diary")
        )
    if may(Permission.DECIDE_PLANS, Permission.VIEW_CASES):
        items.append(
            WorkItem(
                "plans_to_decide",
                "Payment plans waiting for a decision",
                plans_to_decide(role),
                "backoffice.plan_queue",
                "" if may(Permission.APPROVE) else "Plans above the team-leader total are left out",
            )
        )
    if may(Permission.APPROVE):
        items.append(
            WorkItem(
                "approvals",
                "Refunds, write-offs and credit notes for you to approve",
                approvals_for(staff),
                "backoffice.approval_queue",
                "Not your own requests, and within your limits",
            )
        )
    if may(Permission.WORK_BACS_REPORTS):
        items.append(
            WorkItem(
                "bacs_returns",
                "Direct Debit returns to work",
                returns_queue.waiting_count(),
                "backoffice.bacs_returns_queue",
            )
        )
    if may(Permission.WORK_CASES, Permission.VIEW_CASES):
        items.append(
            WorkItem(
                "unallocated",
                "Unallocated payments",
                unallocated_count(),
                "backoffice.unallocated_queue",
            )
        )
    if may(Permission.CHECK_INVOICES):
        items.append(
            WorkItem(
                "invoice_checks",
                "Invoices waiting to be checked",
                invoice_reads.waiting_count(exclude_raised_by=staff.id),
                "backoffice.invoice_checking_queue",
                "Not counting invoices you raised",
            )
        )
    if may(Permission.RAISE_INVOICES):
        drafts = invoice_reads.open_draft_count(staff.id)
        items.append(
            WorkItem(
                "my_invoices",
                "Your invoices not sent yet",
                drafts,
                "backoffice.my_invoice_drafts",
                "Drafts, and invoices returned to you by a checker",
            )
        )
    team: list[QueueCount] = []
    if staff.role == StaffRole.TEAM_LEADER:
        team = [q for q in dashboard.queues(today) if may(q.permission)]
    return WorkList(today=today, items=items, team=team)

"""What each back-office role may do.

Views name the permission they need (backoffice.auth.requires); this table is
the only place that says which roles have it. Roles are keyed by their stored
value ("officer", ...), the same strings as shared.models.StaffRole, so this
module needs neither Flask nor SQLAlchemy.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Permission(enum.StrEnum):
    VIEW_CASES = "view_cases"  # accounts, invoices, balances, timelines
    # Record contacts, holds, contact details, manual payments and credit notes; allocate
    # unallocated payments by hand.
    WORK_CASES = "work_cases"
    REQUEST_REFUND = "request_refund"  # within the person's refund limit, or for approval
    REQUEST_WRITE_OFF = "request_write_off"  # within the write-off limit, or for approval
    # Refer debts to an enforcement agent or legal, and download the referral packs
    # (they carry the debtor's personal details).
    REFER = "refer"
    # Approve, reject or counter-offer a referred payment plan (plans above the
    # team-leader total also need APPROVE), and mark broken plans as reviewed.
    DECIDE_PLANS = "decide_plans"
    # Each service department's payment-plan policy.
    MANAGE_PLAN_POLICY = "manage_plan_policy"
    APPROVE = "approve"  # someone else's refund or write-off request
    MANAGE_STAFF = "manage_staff"  # add staff, change roles and delegated limits
    VIEW_AUDIT = "view_audit"  # the audit log
    # Create and edit debtor accounts (with the duplicate check first).
    MANAGE_ACCOUNTS = "manage_accounts"
    # Raise invoices: issued at once within the person's invoice limit, otherwise (and
    # always for service-department users) left in the checking queue.
    RAISE_INVOICES = "raise_invoices"
    # Check someone else's invoice in the checking queue: issue it or return it.
    CHECK_INVOICES = "check_invoices"
    # Import invoices from the council's finance system (a file of them).
    IMPORT_INVOICES = "import_invoices"
    # Income codes, dated VAT rates and departments' payment terms.
    MANAGE_FINANCE_SETTINGS = "manage_finance_settings"
    # Write and download the daily journal to the general ledger.
    EXPORT_JOURNAL = "export_journal"
    # Take a Direct Debit instruction by phone or record a paper one; change a payer's
    # bank details or cancel their mandate at their request.
    TAKE_DIRECT_DEBITS = "take_direct_debits"
    # Import Bacs reports (AUDDIS, ARUDD, ADDACS, DDIC) and work the returns queue.
    WORK_BACS_REPORTS = "work_bacs_reports"
    # Build, check, withdraw and release the day's Bacs collection file.
    RELEASE_BACS_FILES = "release_bacs_files"
    # Departments' recovery ladders, message templates and the base-rate table.
    MANAGE_DUNNING = "manage_dunning"
    # Preview and start a dunning run.
    RUN_DUNNING = "run_dunning"
    # Build, check, withdraw and release the day's print batch of letters.
    RELEASE_PRINT_BATCHES = "release_print_batches"
    # Send a letter, email or text from a template from the case; retry a failed one.
    SEND_CORRESPONDENCE = "send_correspondence"
    # Record a County Court judgment, an acknowledgement of a debt, a Letter of Claim reply.
    RECORD_LEGAL_STEPS = "record_legal_steps"
    # Management reports: aged debt, collection, arrangements, write-offs, the dashboard.
    VIEW_REPORTS = "view_reports"
    # The officer activity report, limited to the person's own activity without VIEW_REPORTS.
    VIEW_OWN_ACTIVITY = "view_own_activity"
    # Each department's collection-rate target for a financial year.
    SET_COLLECTION_TARGETS = "set_collection_targets"


_OFFICER = frozenset(
    {
        Permission.VIEW_CASES,
        Permission.WORK_CASES,
        Permission.REQUEST_REFUND,
        Permission.REQUEST_WRITE_OFF,
        Permission.REFER,
        Permission.DECIDE_PLANS,
        Permission.MANAGE_ACCOUNTS,
        Permission.RAISE_INVOICES,
        Permission.CHECK_INVOICES,
        Permission.IMPORT_INVOICES,
        Permission.TAKE_DIRECT_DEBITS,
        Permission.WORK_BACS_REPORTS,
        Permission.RELEASE_PRINT_BATCHES,
        Permission.SEND_CORRESPONDENCE,
        Permission.RECORD_LEGAL_STEPS,
        Permission.VIEW_OWN_ACTIVITY,
    }
)

ROLE_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    "officer": _OFFICER,
    "team_leader": _OFFICER
    | {
        Permission.APPROVE,
        Permission.EXPORT_JOURNAL,
        Permission.RELEASE_BACS_FILES,
        Permission.RUN_DUNNING,
        Permission.VIEW_REPORTS,
    },
    # Administrators manage people, not money: they can look at cases (to
    # answer a colleague's question) but never change one or approve anything.
    "admin": frozenset(
        {
            Permission.MANAGE_STAFF,
            Permission.VIEW_AUDIT,
            Permission.VIEW_CASES,
            Permission.MANAGE_PLAN_POLICY,
            Permission.MANAGE_FINANCE_SETTINGS,
            Permission.MANAGE_DUNNING,
            Permission.VIEW_REPORTS,
            Permission.SET_COLLECTION_TARGETS,
        }
    ),
    # Read-only: sees cases and the audit trail, changes nothing.
    "auditor": frozenset({Permission.VIEW_CASES, Permission.VIEW_AUDIT, Permission.VIEW_REPORTS}),
    # A service department's own staff: raise invoices for their department (always
    # checked by the accounts-receivable team before they go out), nothing else.
    "service_department": frozenset({Permission.RAISE_INVOICES}),
}


def permissions_for(role: str) -> frozenset[Permission]:
    """Everything `role` may do; nothing at all for a role this table does not know."""
    return ROLE_PERMISSIONS.get(str(role), frozenset())


def role_has(role: str, *permissions: Permission) -> bool:
    """Whether `role` has every one of `permissions` (no permissions: any known role)."""
    granted = permissions_for(role)
    return str(role) in ROLE_PERMISSIONS and all(p in granted for p in permissions)


def roles_with(permission: Permission) -> list[str]:
    """The roles that have `permission`, in the table's order."""
    return [role for role, granted in ROLE_PERMISSIONS.items() if permission in granted]

"""Read-side queries for the back office's case page: one debtor account, in sections.

Every section has the summary on top (shared.services.case_view.summary: balance,
flags and holds, recovery stage, oldest debt, next action) and reads only what it
shows besides: the ledger (.ledger), the plans and Direct Debits (.plans), the
timeline (.timeline). The invoices section shows the summary's own invoice rows;
the messages section is the account's message log
(shared.services.messages.message_log.account_messages).

Read-only. Like shared.services.account_view (whose invoice query and words it
reuses), every statement is built once with bind parameters and answered by an
index on the account.
"""

from __future__ import annotations

from shared.services.case_view.ledger import ENTRY_KIND_WORDS, LedgerSection, ledger_section
from shared.services.case_view.paging import PAGE_SIZE, Page
from shared.services.case_view.plans import PlansSection, plans_section
from shared.services.case_view.summary import (
    CaseSummary,
    Flag,
    address_lines,
    case_summary,
    flags_for,
    hold_flags,
)
from shared.services.case_view.timeline import (
    CONTACT_KIND_WORDS,
    TimelineSection,
    timeline_section,
)

__all__ = [
    "CONTACT_KIND_WORDS",
    "ENTRY_KIND_WORDS",
    "PAGE_SIZE",
    "CaseSummary",
    "Flag",
    "LedgerSection",
    "Page",
    "PlansSection",
    "TimelineSection",
    "address_lines",
    "case_summary",
    "flags_for",
    "hold_flags",
    "ledger_section",
    "plans_section",
    "timeline_section",
]

"""Every model, by aggregate. Importing this registers all tables on db.metadata."""

from shared.models.accounts import (
    Address,
    BreathingSpaceType,
    Channel,
    DebtorAccount,
    DebtorKind,
    PortalRelationship,
    PortalUser,
    PortalUserAccount,
    ServiceDepartment,
    postcode_key,
)
from shared.models.approvals import ApprovalKind, ApprovalRequest, ApprovalStatus
from shared.models.audit import ActorType, AuditLog
from shared.models.bank_statements import (
    BankLineCandidate,
    BankLineResolution,
    BankStatementImport,
    BankStatementLine,
    ResolutionAction,
)
from shared.models.contact import ContactEvent, ContactKind
from shared.models.credit_notes import CreditNote, CreditNoteLine
from shared.models.directdebit import (
    LIVE_COLLECTION_STATUSES,
    LIVE_MANDATE_STATUSES,
    AdvanceNotice,
    BacsFile,
    BacsFileStatus,
    BacsReport,
    BacsReportItem,
    BacsReportKind,
    Collection,
    CollectionStatus,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
)
from shared.models.dunning import (
    DunningMove,
    DunningPolicy,
    DunningRun,
    DunningRunStatus,
    DunningStage,
    Language,
    MessageTemplate,
    TemplateChannel,
)
from shared.models.gl_journals import (
    GlJournal,
    GlJournalEvent,
    JournalEventKind,
    JournalVia,
)
from shared.models.holds import AccountHold, HoldKind
from shared.models.invoice_drafts import InvoiceDraft, InvoiceDraftLine
from shared.models.invoice_imports import ImportStatus, InvoiceImport, InvoiceImportFile
from shared.models.invoice_schedules import (
    SCHEDULE_TRANSITIONS,
    InvoiceFrequency,
    InvoiceSchedule,
    InvoiceScheduleLine,
    InvoiceScheduleRun,
    ScheduleStatus,
)
from shared.models.invoices import (
    DocumentSequence,
    IncomeCode,
    Invoice,
    InvoiceLine,
    RecoveryStage,
    VatRatePeriod,
)
from shared.models.ledger import CREDIT_KINDS, Allocation, EntryKind, LedgerEntry, PaymentMethod
from shared.models.legal import (
    BaseRatePeriod,
    ChargeKind,
    CourtJudgment,
    CourtJudgmentInvoice,
    DebtAcknowledgement,
    LatePaymentCharge,
    LetterOfClaim,
)
from shared.models.letters import LetterDocument, PrintBatch, PrintBatchStatus
from shared.models.messaging import (
    MessagePurpose,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from shared.models.payments import (
    CHECKOUT_TRANSITIONS,
    CardCheckout,
    CheckoutStatus,
    ProviderEvent,
    RefusedCardEvent,
)
from shared.models.plans import (
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    Frequency,
    IncomeExpenditureStatement,
    Instalment,
    PaymentRoute,
    PlanPolicy,
)
from shared.models.portal_codes import CodePurpose, PortalOneTimeCode  # noqa: F401
from shared.models.referrals import (
    EnforcementReferral,
    EnforcementReferralInvoice,
    ReferralDestination,
)
from shared.models.reports import CollectionTarget, ReportPack, ReportPackStatus
from shared.models.staff import LimitChangeStatus, StaffLimitChange, StaffRole, StaffUser
from shared.models.unallocated import UnallocatedCredit
from shared.models.verifications import PaymentVerification, VerificationStatus, VerifiedVia
from shared.models.web_sessions import WebSession, WebSessionEnd, WebSessionKind

# Tables whose rows are never updated or deleted (triggers enforce it).
APPEND_ONLY_TABLES = (
    "ledger_entries",
    "allocations",
    "audit_log",
    # Bank statements in (migration 0018): what was imported and what became of it.
    "bank_statement_imports",
    "bank_statement_lines",
    "bank_line_candidates",
    "bank_line_resolutions",
    # The daily journals to the general ledger (migration 0025): the file as sent, and
    # who wrote or downloaded it.
    "gl_journals",
    "gl_journal_events",
    # Credit-note documents (migration 0022): what each note credited, line by line.
    "credit_notes",
    "credit_note_lines",
    # Periodic invoices (migration 0023): a schedule's lines are fixed once made, and
    # each period raised is recorded once.
    "invoice_schedule_lines",
    "invoice_schedule_runs",
)

__all__ = [
    "AccountHold",
    "HoldKind",
    "APPEND_ONLY_TABLES",
    "CREDIT_KINDS",
    "ActorType",
    "Address",
    "Allocation",
    "ApprovalKind",
    "ApprovalRequest",
    "ApprovalStatus",
    "Arrangement",
    "ArrangementDebt",
    "ArrangementStatus",
    "CHECKOUT_TRANSITIONS",
    "CardCheckout",
    "CheckoutStatus",
    "ProviderEvent",
    "RefusedCardEvent",
    "AuditLog",
    "BankLineCandidate",
    "BankLineResolution",
    "BankStatementImport",
    "BankStatementLine",
    "ResolutionAction",
    "BreathingSpaceType",
    "Channel",
    "Collection",
    "CollectionStatus",
    "ContactEvent",
    "ContactKind",
    "CreditNote",
    "CreditNoteLine",
    "DebtorAccount",
    "DebtorKind",
    "EntryKind",
    "Frequency",
    "GlJournal",
    "GlJournalEvent",
    "JournalEventKind",
    "JournalVia",
    "IncomeExpenditureStatement",
    "Instalment",
    "DocumentSequence",
    "IncomeCode",
    "Invoice",
    "VatRatePeriod",
    "InvoiceLine",
    "ImportStatus",
    "InvoiceImport",
    "InvoiceImportFile",
    "InvoiceDraft",
    "InvoiceDraftLine",
    "InvoiceFrequency",
    "InvoiceSchedule",
    "InvoiceScheduleLine",
    "InvoiceScheduleRun",
    "SCHEDULE_TRANSITIONS",
    "ScheduleStatus",
    "LedgerEntry",
    "Mandate",
    "MandateSource",
    "MandateStatus",
    "ModulusOutcome",
    "AdvanceNotice",
    "BacsFile",
    "BacsFileStatus",
    "BacsReport",
    "BacsReportItem",
    "BacsReportKind",
    "LIVE_COLLECTION_STATUSES",
    "LIVE_MANDATE_STATUSES",
    "OutboxChannel",
    "OutboxMessage",
    "OutboxStatus",
    "PaymentMethod",
    "PaymentRoute",
    "PlanPolicy",
    "PortalRelationship",
    "PortalUser",
    "PortalUserAccount",
    "RecoveryStage",
    "EnforcementReferral",
    "EnforcementReferralInvoice",
    "ReferralDestination",
    "ServiceDepartment",
    "LimitChangeStatus",
    "StaffLimitChange",
    "StaffRole",
    "StaffUser",
    "UnallocatedCredit",
    "PaymentVerification",
    "VerificationStatus",
    "VerifiedVia",
    "WebSession",
    "WebSessionEnd",
    "WebSessionKind",
    "postcode_key",
    "DunningMove",
    "DunningPolicy",
    "DunningRun",
    "DunningRunStatus",
    "DunningStage",
    "Language",
    "MessageTemplate",
    "TemplateChannel",
    "BaseRatePeriod",
    "ChargeKind",
    "CourtJudgment",
    "CourtJudgmentInvoice",
    "DebtAcknowledgement",
    "LatePaymentCharge",
    "LetterOfClaim",
    "LetterDocument",
    "PrintBatch",
    "PrintBatchStatus",
    "MessagePurpose",
    "CollectionTarget",
    "ReportPack",
    "ReportPackStatus",
]

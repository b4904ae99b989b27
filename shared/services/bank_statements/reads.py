"""What the back office and the command line show of bank statement imports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from shared.domain.bank_statements.matching import RULE_WORDS, LineOutcome, Rule
from shared.domain.names import display_name
from shared.extensions import db
from shared.models import (
    BankLineCandidate,
    BankLineResolution,
    BankStatementImport,
    BankStatementLine,
    DebtorAccount,
    Invoice,
    StaffUser,
)
from shared.services.bank_statements.lookups import owed_by_invoice
from shared.services.bank_statements.resolve import WAITING
from shared.services.errors import NotFound

QUEUE_LIMIT = 100


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    pence: int


@dataclass(frozen=True)
class ImportSummary:
    import_id: int
    file_name: str | None
    format: str
    bank_account: str
    statement_id: str
    from_date: date
    to_date: date
    opening_balance_pence: int
    closing_balance_pence: int
    credits_pence: int
    debits_pence: int
    line_count: int
    debit_count: int
    # matched, suggested, unmatched, settlements, already known, recorded by hand
    figures: tuple[Figure, ...]
    imported_by: str
    imported_at: datetime

    @property
    def balances_reconcile(self) -> bool:
        closing = self.opening_balance_pence + self.credits_pence - self.debits_pence
        return closing == self.closing_balance_pence

    @property
    def credits_reconcile(self) -> bool:
        return sum(f.pence for f in self.figures) == self.credits_pence

    @property
    def matched_share(self) -> float:
        """Matched credits as a share of the credits that needed matching (settlements
        and lines already known are not payers' transfers to match; lines recorded by
        hand are, and were matched before they were found on the ledger)."""
        by_label = {f.label: f.count for f in self.figures}
        matched = by_label["Matched"] + by_label["Recorded by hand"]
        to_match = matched + by_label["Suggested"] + by_label["Unmatched"]
        return matched / to_match if to_match else 1.0


_LABELS = (
    ("Matched", "matched"),
    ("Suggested", "suggested"),
    ("Unmatched", "unmatched"),
    ("Settlements", "settlement"),
    ("Already known", "already_known"),
    ("Recorded by hand", "recorded_by_hand"),
)


def import_summary(import_id: int) -> ImportSummary:
    """One import's matching summary, with the figures that reconcile it."""
    found = db.session.execute(
        sa.select(BankStatementImport, StaffUser.full_name)
        .outerjoin(StaffUser, StaffUser.id == BankStatementImport.imported_by_staff_id)
        .where(BankStatementImport.id == import_id)
    ).one_or_none()
    if found is None:
        raise NotFound(f"No bank statement import {import_id}")
    row, who = found
    return ImportSummary(
        import_id=row.id,
        file_name=row.file_name,
        format=row.format.value,
        bank_account=row.bank_account,
        statement_id=row.statement_id,
        from_date=row.from_date,
        to_date=row.to_date,
        opening_balance_pence=row.opening_balance_pence,
        closing_balance_pence=row.closing_balance_pence,
        credits_pence=row.credits_pence,
        debits_pence=row.debits_pence,
        line_count=row.line_count,
        debit_count=row.debit_count,
        figures=tuple(
            Figure(label, getattr(row, f"{key}_count"), getattr(row, f"{key}_pence"))
            for label, key in _LABELS
        ),
        imported_by=who or "Command line",
        imported_at=row.imported_at,
    )


def recent_imports(limit: int = 20) -> list[ImportSummary]:
    """The latest imports, newest first."""
    ids = db.session.scalars(
        sa.select(BankStatementImport.id)
        .order_by(BankStatementImport.imported_at.desc(), BankStatementImport.id.desc())
        .limit(limit)
    )
    return [import_summary(i) for i in ids]


@dataclass(frozen=True)
class CandidateView:
    account_id: int
    account_reference: str
    account_name: str
    invoice_id: int | None
    invoice_number: str | None
    invoice_owed_pence: int | None
    why: str


@dataclass(frozen=True)
class WaitingLine:
    line_id: int
    outcome: str  # "suggested" or "unmatched"
    booking_date: date
    amount_pence: int
    payer_name: str
    remittance: str
    line_reference: str
    statement_id: str
    candidates: tuple[CandidateView, ...]


def _waiting_query():
    resolved = sa.select(BankLineResolution.id).where(
        BankLineResolution.line_id == BankStatementLine.id
    )
    return (
        sa.select(BankStatementLine, BankStatementImport.statement_id)
        .join(BankStatementImport, BankStatementImport.id == BankStatementLine.import_id)
        .where(BankStatementLine.outcome.in_([o.value for o in WAITING]), ~resolved.exists())
    )


def waiting_count() -> int:
    """How many lines wait for an officer."""
    waiting = _waiting_query().subquery()
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(waiting)))


def waiting_lines(limit: int = QUEUE_LIMIT, line_id: int | None = None) -> list[WaitingLine]:
    """Suggested and unmatched lines nobody has resolved, oldest first, each with its
    candidates (account, invoice, what it owes now, and why it was suggested)."""
    query = _waiting_query()
    if line_id is not None:
        query = query.where(BankStatementLine.id == line_id)
    rows = db.session.execute(
        query.order_by(BankStatementLine.booking_date, BankStatementLine.id).limit(limit)
    ).all()
    ids = [line.id for line, _ in rows]
    candidates = db.session.execute(
        sa.select(BankLineCandidate, DebtorAccount, Invoice.number)
        .join(DebtorAccount, DebtorAccount.id == BankLineCandidate.account_id)
        .outerjoin(Invoice, Invoice.id == BankLineCandidate.invoice_id)
        .where(BankLineCandidate.line_id.in_(ids))
        .order_by(BankLineCandidate.line_id, BankLineCandidate.rank)
    ).all()
    owed = owed_by_invoice(c.invoice_id for c, _, _ in candidates if c.invoice_id is not None)
    by_line: dict[int, list[CandidateView]] = {}
    for candidate, account, number in candidates:
        by_line.setdefault(candidate.line_id, []).append(
            CandidateView(
                account_id=account.id,
                account_reference=account.reference,
                account_name=display_name(
                    account.kind,
                    account.title,
                    account.forename,
                    account.surname,
                    account.organisation_name,
                ),
                invoice_id=candidate.invoice_id,
                invoice_number=number,
                invoice_owed_pence=owed.get(candidate.invoice_id),
                why=RULE_WORDS[Rule(candidate.rule)],
            )
        )
    return [
        WaitingLine(
            line_id=line.id,
            outcome=LineOutcome(line.outcome).value,
            booking_date=line.booking_date,
            amount_pence=line.amount_pence,
            payer_name=line.payer_name,
            remittance=line.remittance,
            line_reference=line.line_reference,
            statement_id=statement_id,
            candidates=tuple(by_line.get(line.id, ())),
        )
        for line, statement_id in rows
    ]


def waiting_line(line_id: int) -> WaitingLine:
    """One line waiting for an officer; NotFound once it has been resolved."""
    found = waiting_lines(limit=1, line_id=line_id)
    if not found:
        raise NotFound(f"Bank statement line {line_id} is not waiting for an officer")
    return found[0]


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}£{abs(pence) // 100:,}.{abs(pence) % 100:02d}"


def summary_lines(summary: ImportSummary) -> list[str]:
    """The matching summary as plain lines of text (the command line prints these)."""
    lines = [
        f"Statement {summary.statement_id}, account {summary.bank_account}, "
        f"{summary.from_date} to {summary.to_date} ({summary.format}, {summary.line_count} lines)",
        f"Opening balance {_pounds(summary.opening_balance_pence)} + credits "
        f"{_pounds(summary.credits_pence)} - debits {_pounds(summary.debits_pence)} = closing "
        f"balance {_pounds(summary.closing_balance_pence)}"
        + ("" if summary.balances_reconcile else "  DOES NOT RECONCILE"),
    ]
    for figure in summary.figures:
        lines.append(f"  {figure.label + ':':<18}{figure.count:>7,}  {_pounds(figure.pence):>16}")
    lines.append(f"  {'Debits:':<18}{summary.debit_count:>7,}  {_pounds(summary.debits_pence):>16}")
    lines.append(
        f"Credits {_pounds(summary.credits_pence)} = matched + suggested + unmatched + "
        f"settlements + already known + recorded by hand"
        + ("" if summary.credits_reconcile else "  DOES NOT RECONCILE")
    )
    lines.append(f"Matched automatically: {summary.matched_share:.1%} of the payers' transfers")
    return lines

"""The pack sent with a referral: one zip of
- statement.pdf: the referred invoices and everything applied to them, as they stood
  when referred (same branding and renderer as the debtor's own statement);
- contact-history.csv: the account's timeline up to and including the referral, without
  health or vulnerability notes (shared.domain.referrals.pack_history_entry);
- referral.csv: the fixed-column row an agent's or solicitor's system loads
  (shared.domain.referrals.PACK_COLUMNS), exactly as it was when referred.

Everything is read "as at the referral", so downloading the pack again later gives
the same figures the agent was sent, whatever has been paid since.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from shared import clock, pdf
from shared.domain.referrals import PACK_COLUMNS, pack_history_entry
from shared.extensions import db
from shared.models import (
    Allocation,
    ContactEvent,
    ContactKind,
    EnforcementReferral,
    EnforcementReferralInvoice,
    EntryKind,
    Invoice,
    LedgerEntry,
    PaymentMethod,
    StaffUser,
)
from shared.services.account_view import METHOD_WORDS, StatementLine
from shared.services.case_view import CONTACT_KIND_WORDS
from shared.services.referrals import DESTINATION_WORDS

CONTACT_HISTORY_COLUMNS = ("occurred_at_utc", "kind", "summary", "detail", "outcome", "recorded_by")

_CREDIT_WORDS = {
    EntryKind.PAYMENT: "Payment",
    EntryKind.CREDIT_NOTE: "Credit note",
    EntryKind.WRITE_OFF: "Written off",
    EntryKind.ADJUSTMENT: "Credit from another account",
}


@dataclass(frozen=True)
class Pack:
    filename: str
    body: bytes


@dataclass(frozen=True)
class PackAccount:
    reference: str
    name: str


@dataclass(frozen=True)
class ReferredStatement:
    account: PackAccount
    address_lines: list[str]
    destination: str
    referred_on: date
    lines: list[StatementLine]
    balance_pence: int


def _cell(value) -> str:
    """A CSV cell a spreadsheet will show as text, never run as a formula (OWASP)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    # With a byte order mark, Excel reads the £ and accented names as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def referral_csv(referral: EnforcementReferral) -> bytes:
    return _csv(PACK_COLUMNS, [[referral.pack_row[c] for c in PACK_COLUMNS]])


def _up_to(referral: EnforcementReferral):
    if referral.contact_event_id is None:  # a referral recorded without its timeline entry
        return ContactEvent.occurred_at <= referral.created_at
    return ContactEvent.id <= referral.contact_event_id


def contact_history_csv(referral: EnforcementReferral) -> bytes:
    """The account's timeline, oldest first, up to the entry that recorded the referral,
    leaving out vulnerability notes and a Breathing Space's health details."""
    rows = db.session.execute(
        sa.select(
            ContactEvent.occurred_at,
            ContactEvent.kind,
            ContactEvent.summary,
            ContactEvent.detail,
            ContactEvent.outcome,
            ContactEvent.portal_user_id,
            StaffUser.full_name,
        )
        .outerjoin(StaffUser, StaffUser.id == ContactEvent.staff_id)
        .where(ContactEvent.account_id == referral.account_id, _up_to(referral))
        .order_by(ContactEvent.occurred_at, ContactEvent.id)
    ).all()
    return _csv(
        CONTACT_HISTORY_COLUMNS,
        (
            [
                f"{r.occurred_at:%Y-%m-%d %H:%M}",
                CONTACT_KIND_WORDS[ContactKind(r.kind)],
                kept[0],
                kept[1] or "",
                r.outcome or "",
                r.full_name or ("Debtor (portal)" if r.portal_user_id else "System"),
            ]
            for r in rows
            if (kept := pack_history_entry(r.summary, r.detail)) is not None
        ),
    )


def _credit_words(kind: EntryKind, method, amount: int) -> str:
    words = _CREDIT_WORDS.get(kind, "Credit")
    if kind == EntryKind.PAYMENT and method:
        words = f"Payment: {METHOD_WORDS[PaymentMethod(method)]}"
    return f"{words} taken back" if amount < 0 else words


def referred_statement(referral: EnforcementReferral) -> ReferredStatement:
    """The referred invoices and what was applied to them before the referral, by date."""
    ids = sa.select(EnforcementReferralInvoice.invoice_id).where(
        EnforcementReferralInvoice.referral_id == referral.id
    )
    items: list[tuple[date, int, str, int]] = [
        (r.issue_date, 0, f"Invoice {r.number}: {r.description}", int(r.total_pence))
        for r in db.session.execute(
            sa.select(Invoice.issue_date, Invoice.number, Invoice.description, Invoice.total_pence)
            .where(Invoice.id.in_(ids))
            .order_by(Invoice.due_date, Invoice.id)
        )
    ]
    for r in db.session.execute(
        sa.select(
            Allocation.id,
            Allocation.amount_pence,
            Allocation.created_at,
            Invoice.number,
            LedgerEntry.kind,
            LedgerEntry.method,
        )
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .join(LedgerEntry, LedgerEntry.id == Allocation.credit_entry_id)
        .where(Allocation.invoice_id.in_(ids), Allocation.created_at <= referral.created_at)
        .order_by(Allocation.id)
    ):
        amount = int(r.amount_pence)
        words = f"{_credit_words(EntryKind(r.kind), r.method, amount)} (invoice {r.number})"
        items.append((clock.london_day(r.created_at), 1, words, -amount))
    running, lines = 0, []
    for day, _, words, amount in sorted(items, key=lambda item: (item[0], item[1])):
        running += amount
        lines.append(
            StatementLine(
                date=day,
                description=words,
                debit_pence=max(amount, 0),
                credit_pence=max(-amount, 0),
                balance_pence=running,
            )
        )
    row = referral.pack_row
    address = [part for part in row["address"].split(", ") if part] + [row["postcode"]]
    return ReferredStatement(
        account=PackAccount(row["account_reference"], row["debtor_name"]),
        address_lines=[line for line in address if line],
        destination=DESTINATION_WORDS[referral.destination],
        referred_on=referral.referred_on,
        lines=lines,
        balance_pence=running,
    )


def referral_pack(referral: EnforcementReferral) -> Pack:
    """The zip for one referral (renders the PDF: needs the app, takes about a second)."""
    statement = referred_statement(referral)
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        pack.writestr(
            "statement.pdf",
            pdf.render_pdf(
                "pdf/referral_statement.html", statement=statement, today=referral.referred_on
            ),
        )
        pack.writestr("contact-history.csv", contact_history_csv(referral))
        pack.writestr("referral.csv", referral_csv(referral))
    reference = referral.pack_row["account_reference"]
    return Pack(f"referral-{reference}-{referral.id}.zip", body.getvalue())

"""Import one bank statement file: read it, match its lines, post what matched.

One transaction: the import row with its summary, every new line with its outcome,
the candidates of suggested lines and the payments of matched lines are committed
together, or (on a bad file, or any error) nothing is. A file that has been
imported before (same SHA-256) changes nothing and returns the first import; a
line already stored for the bank account (an overlapping statement, the same
statement in another file format) is counted as already known and never posted
again.

Matched lines are posted as BANK_TRANSFER payments dated the day the bank booked
them, by posting.post_bank_payments: the ledger service's rules and records (the
allocation rules of shared.domain.allocation, the unallocated queue, the timeline and
the audit row of every payment) done set-based, because a payment at a time is too
slow for a 20,000-line statement (posting.py says why). When the payer named an
invoice that is still open, the money goes to that invoice first and anything over
stays on the account as credit (the unallocated payments queue), for an officer to
look at.

A line matched to an account that has the same bank transfer recorded by hand already
(an officer keyed it from a remittance advice: same amount, within five working days,
not claimed by another line; shared.domain.bank_statements.hand_keyed) is not posted:
it is linked to that payment (outcome recorded_by_hand) and, if the payment was
waiting for a second officer's verification, the statement line verifies it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.domain import bank_statements as statements
from shared.domain.bank_statements.hand_keyed import MatchedCredit, claim
from shared.domain.bank_statements.matching import (
    Decision,
    LineOutcome,
    OwingByName,
    ReferenceReading,
    Rule,
    SettlementRules,
    decide,
    read_reference,
)
from shared.extensions import db
from shared.models import (
    BankLineCandidate,
    BankStatementImport,
    BankStatementLine,
)
from shared.services.actors import Actor
from shared.services.bank_statements import bulk, hand_keyed, lookups, posting
from shared.services.errors import Conflict, InvalidRequest
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

_OUTCOMES_OF_CREDITS = (
    LineOutcome.MATCHED,
    LineOutcome.SUGGESTED,
    LineOutcome.UNMATCHED,
    LineOutcome.SETTLEMENT,
    LineOutcome.ALREADY_KNOWN,
    LineOutcome.RECORDED_BY_HAND,
)


class BadStatement(InvalidRequest):
    """The file is not a statement we can read; the message says where and why."""


@dataclass(frozen=True)
class Imported:
    import_id: int
    created: bool  # False: this very file had been imported before; nothing changed


def payment_reference(bank_account: str, line_reference: str) -> str:
    """The ledger's external reference for a bank line's payment (unique there too)."""
    reference = f"bank:{bank_account}:{line_reference}"
    if len(reference) <= 100:
        return reference
    digest = hashlib.sha256(f"{bank_account}:{line_reference}".encode()).hexdigest()
    return f"bank:{digest[:64]}"


def _summary(lines, decisions: Mapping[int, Decision]) -> dict[str, int]:
    """The import row's figures: a count and a sum for each outcome of a credit."""
    counts: Counter[LineOutcome] = Counter()
    pence: Counter[LineOutcome] = Counter()
    for n, line in enumerate(lines):
        outcome = decisions[n].outcome
        counts[outcome] += 1
        pence[outcome] += line.amount_pence
    figures = {}
    for outcome in _OUTCOMES_OF_CREDITS:
        figures[f"{outcome.value}_count"] = counts[outcome]
        figures[f"{outcome.value}_pence"] = pence[outcome]
    figures["debit_count"] = counts[LineOutcome.DEBIT]
    return figures


def _decisions(statement, known: set[str], rules: SettlementRules) -> dict[int, Decision]:
    """What to do with each line of the statement, by its position."""
    decisions: dict[int, Decision] = {}
    to_match: list[int] = []
    for n, line in enumerate(statement.lines):
        if line.is_credit and line.line_reference in known:
            decisions[n] = Decision(LineOutcome.ALREADY_KNOWN, Rule.NONE)
        elif not line.is_credit or rules.rule_for(line) is not None:
            decisions[n] = decide(
                line,
                ReferenceReading(None, ()),
                settlements=rules,
                accounts={},
                owing_exactly={},
            )
        else:
            to_match.append(n)
    if not to_match:
        return decisions
    index = lookups.reference_index()
    readings = {n: read_reference(index, statement.lines[n]) for n in to_match}
    del index  # the largest thing here; free it before the next reads
    by_amount = lookups.invoices_owing_exactly(
        statement.lines[n].amount_pence for n, r in readings.items() if not r.targets
    )
    # What the reference rules need of the accounts named (their open invoices and
    # names); the amount rule only needs the names of the accounts owing those amounts.
    named = {t.account_id for r in readings.values() for t in r.targets}
    owing = {
        account_id
        for n, r in readings.items()
        if not r.targets
        for _, account_id in by_amount.get(statement.lines[n].amount_pence, ())
    }
    facts = lookups.account_names(owing - named) | lookups.account_facts(named)
    owing = OwingByName(by_amount, facts)
    for n in to_match:
        decisions[n] = decide(
            statement.lines[n],
            readings[n],
            settlements=rules,
            accounts=facts,
            owing_exactly=owing.for_line(statement.lines[n]),
        )
    return decisions


@use_case
def import_statement(
    content: bytes,
    *,
    actor: Actor,
    file_name: str | None = None,
    format: str | None = None,
    settlement_rules: SettlementRules | None = None,
) -> Imported:
    """Import a statement file: post what matches, queue the rest, record the summary."""
    digest = hashlib.sha256(content).hexdigest()
    earlier = db.session.scalar(
        sa.select(BankStatementImport.id).where(BankStatementImport.file_sha256 == digest)
    )
    if earlier is not None:
        return Imported(earlier, created=False)
    try:
        statement = statements.read(content, format)
    except statements.StatementError as exc:
        raise BadStatement(str(exc)) from None
    rules = settlement_rules or SettlementRules()
    known = lookups.known_line_references(
        statement.bank_account, [line.line_reference for line in statement.lines]
    )
    decisions = _decisions(statement, known, rules)
    keyed = _recorded_by_hand(statement, decisions)
    for n in keyed:
        decisions[n] = replace(decisions[n], outcome=LineOutcome.RECORDED_BY_HAND)
    row = BankStatementImport(
        file_sha256=digest,
        file_name=(file_name or "")[:200] or None,
        format=statement.format,
        bank_account=statement.bank_account,
        statement_id=statement.statement_id,
        from_date=statement.from_date,
        to_date=statement.to_date,
        opening_balance_pence=statement.opening_balance_pence,
        closing_balance_pence=statement.closing_balance_pence,
        line_count=len(statement.lines),
        credits_pence=statement.credits_pence,
        debits_pence=statement.debits_pence,
        imported_by_staff_id=actor.staff_id,
        **_summary(statement.lines, decisions),
    )
    try:
        db.session.add(row)
        db.session.flush()
        _post_and_store(row, statement, decisions, known, keyed, actor)
        record_audit(
            actor,
            "bank_statement.imported",
            "bank_statement_import",
            row.id,
            after={
                "file_sha256": digest,
                "bank_account": row.bank_account,
                "statement_id": row.statement_id,
                "lines": row.line_count,
                "matched": row.matched_count,
                "suggested": row.suggested_count,
                "unmatched": row.unmatched_count,
                "settlements": row.settlement_count,
                "already_known": row.already_known_count,
                "recorded_by_hand": row.recorded_by_hand_count,
                "debits": row.debit_count,
            },
        )
        db.session.commit()
    except IntegrityError:
        # Another import of this file or of an overlapping statement committed the
        # same lines first (the unique keys waited for it): nothing of this one is
        # kept. Importing again skips what the other one added.
        db.session.rollback()
        raise Conflict(
            "Another import of the same file or statement lines finished first, so "
            "nothing was imported. Import the file again: lines already in are skipped"
        ) from None
    return Imported(row.id, created=True)


def _recorded_by_hand(statement, decisions: Mapping[int, Decision]) -> dict[int, int]:
    """Position -> the hand-recorded payment (ledger entry id) of each matched line that
    is a transfer an officer keyed already: one read for all the matched accounts."""
    matched = [
        MatchedCredit(n, decisions[n].account_id, line.amount_pence, line.booking_date)
        for n, line in enumerate(statement.lines)
        if decisions[n].outcome == LineOutcome.MATCHED
    ]
    if not matched:
        return {}
    payments = hand_keyed.unclaimed_payments(
        {c.account_id for c in matched},
        min(c.booking_date for c in matched),
        max(c.booking_date for c in matched),
    )
    return {n: payment.entry_id for n, payment in claim(matched, payments).items()}


def _post_and_store(row, statement, decisions, known, keyed, actor: Actor) -> None:
    new = [
        (n, line)
        for n, line in enumerate(statement.lines)
        if line.line_reference not in known  # stored by an earlier import
    ]
    matched = [(n, line) for n, line in new if decisions[n].outcome == LineOutcome.MATCHED]
    entry_ids = posting.post_bank_payments(
        [
            posting.BankPayment(
                account_id=decisions[n].account_id,
                invoice_id=decisions[n].invoice_id,
                amount_pence=line.amount_pence,
                effective_date=line.booking_date,
                external_reference=payment_reference(statement.bank_account, line.line_reference),
                note=f"Bank statement {statement.statement_id}: {line.remittance}"[:300],
            )
            for n, line in matched
        ],
        actor,
    )
    entry_of = {n: entry_id for (n, _), entry_id in zip(matched, entry_ids, strict=True)}
    entry_of.update(keyed)
    line_ids = bulk.insert(
        BankStatementLine,
        [
            dict(
                import_id=row.id,
                bank_account=statement.bank_account,
                line_reference=line.line_reference,
                booking_date=line.booking_date,
                amount_pence=line.amount_pence,
                direction=line.direction,
                remittance=line.remittance,
                payer_name=line.payer_name,
                transaction_code=line.transaction_code,
                outcome=decisions[n].outcome,
                rule=decisions[n].rule,
                account_id=decisions[n].account_id,
                invoice_id=decisions[n].invoice_id,
                ledger_entry_id=entry_of.get(n),
            )
            for n, line in new
        ],
        returning_ids=True,
    )
    candidates = [
        dict(
            line_id=line_id,
            rank=rank,
            account_id=candidate.account_id,
            invoice_id=candidate.invoice_id,
            rule=candidate.rule,
        )
        for line_id, (n, _) in zip(line_ids, new, strict=True)
        for rank, candidate in enumerate(decisions[n].candidates, start=1)
    ]
    bulk.insert(BankLineCandidate, candidates)
    # After the lines: a payment is verified by a line that is stored.
    hand_keyed.verify(
        [(entry_id, statement.lines[n].line_reference) for n, entry_id in keyed.items()], actor
    )

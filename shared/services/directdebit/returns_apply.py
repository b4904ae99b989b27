"""Carrying out a report's items (shared/domain/bacs/reasons.py says what each reason
asks for), inside the import's transaction. Used by returns.import_report only.

Set-based where the count matters: the mandates named, their accounts (locked in id
order), their collections and the scheduled ones of mandates being cancelled are
read a few queries for the whole report; reversals, timeline and audit rows are
inserted in bulk (returns_ledger.py); payer messages go to the outbox together
(notifications.notify_debtors).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app

from shared import clock
from shared.domain.bacs import calendar, reasons
from shared.domain.bacs.reports import Report, ReportItem
from shared.extensions import db
from shared.jobs.outbox import SENDABLE
from shared.models import (
    AdvanceNotice,
    BacsFile,
    Collection,
    CollectionStatus,
    DebtorAccount,
    LedgerEntry,
    Mandate,
    MandateStatus,
    OutboxChannel,
    OutboxMessage,
)
from shared.models.directdebit import LIVE_MANDATE_STATUSES
from shared.money import format_gbp
from shared.services import hold_effects, notifications
from shared.services.actors import Actor
from shared.services.bank_statements import bulk
from shared.services.bank_statements.lookups import chunks
from shared.services.directdebit import bank_details
from shared.services.directdebit import returns_messages as messages
from shared.services.directdebit.returns_ledger import among, requeue_reversed, reverse_payments

_MATCHABLE = (CollectionStatus.SUBMITTED, CollectionStatus.COLLECTED, CollectionStatus.RETURNED)


@dataclass
class Outcome:
    """What was done for one item: stored as its BacsReportItem."""

    item: ReportItem
    treatment: reasons.Treatment
    mandate: Mandate | None = None
    collection: Collection | None = None
    done: list[str] = field(default_factory=list)
    needs_officer: bool = False
    officer_task: str | None = None

    @property
    def account_id(self) -> int | None:
        return self.mandate.account_id if self.mandate is not None else None

    def route(self, task: str) -> None:
        self.needs_officer = True
        self.officer_task = self.officer_task or task

    @property
    def action(self) -> str:
        words = "; ".join(self.done) or "Nothing changed"
        if self.needs_officer:
            words += f". For an officer: {self.officer_task}"
        return words


def _normal(reference: str) -> str:
    return "".join(c for c in reference.upper() if c.isalnum())


def _month_after(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


class Applier:
    def __init__(self, report: Report, actor: Actor) -> None:
        self.report = report
        self.actor = actor
        self.now = clock.utcnow()
        self.today = clock.today()
        self.mandates: dict[str, Mandate] = {}
        self.accounts: dict[int, DebtorAccount] = {}
        self.collections: dict[int, list[tuple[Collection, date | None]]] = defaultdict(list)
        self.scheduled: dict[int, list[Collection]] = defaultdict(list)
        self.reversals: dict[int, str] = {}  # payment entry id -> reason
        self.reversed_by: dict[int, list[Outcome]] = defaultdict(list)
        self.notices: list[tuple[DebtorAccount, notifications.Message, str]] = []
        # Re-presentations: the new collection and its advance notice (column values).
        self.represented: list[tuple[dict, dict, str, Outcome]] = []
        self.message_ids: list[int] = []  # outbox rows written, to enqueue after commit
        self.deceased_accounts: set[int] = set()
        self.returned: dict[int, tuple[str, str]] = {}  # collection id -> (reason, words)
        self.told: dict[str, Outcome] = {}  # dedupe key of each payer message -> its item

    # --- reading what the report names ---------------------------------------------------

    def load(self) -> None:
        references = sorted({item.reference for item in self.report.items})
        for chunk in chunks(references):
            for mandate in db.session.scalars(
                sa.select(Mandate).where(among(Mandate.reference, chunk))
            ):
                self.mandates[mandate.reference] = mandate
        missing = {_normal(r): r for r in references if r not in self.mandates}
        if missing:
            squeezed = sa.func.upper(
                sa.func.replace(sa.func.replace(Mandate.reference, "-", ""), " ", "")
            )
            for chunk in chunks(sorted(missing)):
                for mandate in db.session.scalars(sa.select(Mandate).where(squeezed.in_(chunk))):
                    self.mandates[missing[_normal(mandate.reference)]] = mandate
        account_ids = sorted({m.account_id for m in self.mandates.values()})
        for chunk in chunks(account_ids):
            for account in db.session.scalars(
                sa.select(DebtorAccount)
                .where(among(DebtorAccount.id, chunk))
                .order_by(DebtorAccount.id)
                .with_for_update()
            ):
                self.accounts[account.id] = account
        mandate_ids = sorted({m.id for m in self.mandates.values()})
        if self.report.kind in ("arudd", "ddic"):
            for chunk in chunks(mandate_ids):
                rows = db.session.execute(
                    sa.select(Collection, BacsFile.processing_day)
                    .outerjoin(BacsFile, BacsFile.id == Collection.bacs_file_id)
                    .where(among(Collection.mandate_id, chunk), Collection.status.in_(_MATCHABLE))
                    .order_by(Collection.collection_date.desc(), Collection.id.desc())
                )
                for collection, processing_day in rows:
                    self.collections[collection.mandate_id].append((collection, processing_day))

    def load_scheduled(self, mandate_ids: set[int]) -> None:
        for chunk in chunks(sorted(mandate_ids - set(self.scheduled))):
            for collection in db.session.scalars(
                sa.select(Collection).where(
                    Collection.mandate_id.in_(chunk),
                    Collection.status == CollectionStatus.SCHEDULED,
                )
            ):
                self.scheduled[collection.mandate_id].append(collection)

    # --- deciding --------------------------------------------------------------------------

    def run(self) -> list[Outcome]:
        self.load()
        outcomes = []
        for item in self.report.items:
            treatment = reasons.treatment(
                self.report.kind, item.reason_code, claim_cancelled=item.claim_cancelled
            )
            outcome = Outcome(item, treatment, mandate=self.mandates.get(item.reference))
            if treatment.needs_officer:
                outcome.route(treatment.officer_task or "Check this advice")
            outcomes.append(outcome)
        to_cancel = {
            o.mandate.id
            for o in outcomes
            if o.mandate is not None and (o.treatment.cancel_mandate or o.treatment.fail_mandate)
        }
        self.load_scheduled(to_cancel)
        for outcome in outcomes:
            if outcome.mandate is None:
                outcome.done.append("No mandate has this reference")
                outcome.route("Find the payer by the reference or name and act on this by hand")
                continue
            if self.report.kind == "arudd":
                self._returned(outcome)
            elif self.report.kind == "ddic":
                self._claimed(outcome)
            else:
                self._instruction(outcome)
        self._carry_out(outcomes)
        return outcomes

    def _match(self, mandate: Mandate, amount: int | None, processing_day: date | None):
        """The collection a return names: same amount and original processing day (the
        day of its Bacs file), else the amount and the entry day that processing day
        gives, else the latest collection of that amount; not yet returned first."""
        candidates = [
            (c, day) for c, day in self.collections.get(mandate.id, []) if c.amount_pence == amount
        ]
        tiers = []
        if processing_day is not None:
            entry = calendar.add_working_days(processing_day, 1)
            tiers.append([c for c, day in candidates if day == processing_day])
            tiers.append([c for c, day in candidates if day is None and c.collection_date == entry])
        tiers.append([c for c, _ in candidates])
        for tier in tiers:
            if tier:
                live = [c for c in tier if not self._is_returned(c)]
                return (live or tier)[0]
        return None

    def _returned(self, outcome: Outcome) -> None:
        item, t, mandate = outcome.item, outcome.treatment, outcome.mandate
        collection = self._match(mandate, item.amount_pence, item.original_processing_day)
        outcome.collection = collection
        if collection is None:
            outcome.done.append(
                f"No collection of {format_gbp(item.amount_pence or 0)} under this mandate "
                "matches it"
            )
            outcome.route("Find the payment this return is for and reverse it by hand")
            return
        if self._is_returned(collection):
            outcome.done.append(
                f"The collection of {format_gbp(collection.amount_pence)} on "
                f"{collection.collection_date:%d/%m/%Y} was already returned: nothing done again"
            )
            outcome.needs_officer = False
            return
        self._mark_returned(collection, item.reason_code, item.description, t.words, outcome)
        self._mandate_effects(outcome)
        again = self._represent(outcome) if t.represent else None
        if t.tell_payer and not self._contact_suppressed(mandate):
            self._tell(
                outcome,
                (
                    self.accounts[mandate.account_id],
                    messages.returned(
                        amount_pence=collection.amount_pence,
                        due=collection.collection_date,
                        words=item.description.capitalize(),
                        cancelled=t.cancel_mandate,
                        again_on=again,
                    ),
                    messages.returned_key(collection.id),
                ),
            )
            outcome.done.append("Payer told")

    def _is_returned(self, collection: Collection) -> bool:
        return collection.status == CollectionStatus.RETURNED or collection.id in self.returned

    def _mark_returned(self, collection, code, description, words, outcome) -> None:
        # Written set-based by _write_returns, not through the ORM.
        self.returned[collection.id] = (code[:4], description[:200])
        amount = format_gbp(collection.amount_pence)
        day = f"{collection.collection_date:%d/%m/%Y}"
        if collection.payment_entry_id is None:
            outcome.done.append(f"Collection of {amount} on {day} returned (no payment posted yet)")
            return
        self.reversals[collection.payment_entry_id] = f"Direct Debit returned: {words}"
        self.reversed_by[collection.payment_entry_id].append(outcome)
        outcome.done.append(f"Payment of {amount} collected on {day} reversed")

    def _represent(self, outcome: Outcome) -> date | None:
        """Collect a refer-to-payer return again, once, within a month; the date allows
        the advance notice the return message gives. None when it cannot be."""
        original, mandate = outcome.collection, outcome.mandate
        if original.transaction_code == "18" or original.represents_collection_id is not None:
            outcome.done.append("Already a re-presentation, so not collected again")
            outcome.route("The payment failed twice: agree with the payer how to pay it")
            return None
        if mandate.status != MandateStatus.ACTIVE or mandate.collections_stopped_reason:
            outcome.done.append("Not collected again: the mandate is not collecting")
            return None
        account = self.accounts[mandate.account_id]
        letter = notifications.channel_for(account) == OutboxChannel.LETTER
        counts_from = self.today
        if letter:
            counts_from = calendar.add_working_days(
                self.today, current_app.config["BACS_POSTING_WORKING_DAYS"]
            )
        notice_days = current_app.config["BACS_ADVANCE_NOTICE_WORKING_DAYS"]
        again = calendar.earliest_entry_day(counts_from, notice_days)
        if again > _month_after(original.collection_date):
            outcome.done.append("Too late to collect again within a month of the due date")
            outcome.route("Agree with the payer how to pay the returned amount")
            return None
        amount = format_gbp(original.amount_pence)
        notice = dict(
            mandate_id=mandate.id,
            account_id=mandate.account_id,
            kind="change",
            description=f"Re-presentation of the {amount} returned unpaid "
            f"(due {original.collection_date:%d/%m/%Y}) on {again:%d/%m/%Y}",
            schedule=[{"date": again.isoformat(), "amount_pence": original.amount_pence}],
            counts_from=counts_from,
            earliest_entry_day=again,
        )
        new = dict(
            mandate_id=mandate.id,
            instalment_id=original.instalment_id,
            invoice_id=original.invoice_id,
            amount_pence=original.amount_pence,
            transaction_code="18",
            collection_date=again,
            status=CollectionStatus.SCHEDULED,
            represents_collection_id=original.id,
        )
        self.represented.append((new, notice, messages.returned_key(original.id), outcome))
        outcome.done.append(f"To be collected again on {again:%d/%m/%Y}")
        return again

    def _claimed(self, outcome: Outcome) -> None:
        item, t, mandate = outcome.item, outcome.treatment, outcome.mandate
        if item.claim_cancelled:
            outcome.done.append(f"Claim of {format_gbp(item.amount_pence or 0)} withdrawn")
            return
        debits = [(d.day, d.amount_pence) for d in item.collections] or [(None, item.amount_pence)]
        for debit_day, amount in debits:
            collection = self._match_claim(mandate, amount, debit_day)
            if collection is None:
                outcome.done.append(f"No collected payment of {format_gbp(amount or 0)} found")
                continue
            outcome.collection = outcome.collection or collection
            if self._is_returned(collection):
                outcome.done.append(
                    f"The collection of {format_gbp(amount)} on "
                    f"{collection.collection_date:%d/%m/%Y} was already returned"
                )
                continue
            self._mark_returned(collection, "DDIC", item.description, t.words, outcome)
        self._mandate_effects(outcome)

    def _match_claim(self, mandate: Mandate, amount: int | None, debit_day: date | None):
        candidates = [
            c for c, _ in self.collections.get(mandate.id, []) if c.amount_pence == amount
        ]
        if debit_day is not None:
            near = [c for c in candidates if abs((c.collection_date - debit_day).days) <= 3]
            exact = [c for c in near if c.collection_date == debit_day]
            candidates = exact or near
        live = [c for c in candidates if not self._is_returned(c)]
        found = live or candidates
        return found[0] if found else None

    def _instruction(self, outcome: Outcome) -> None:
        if outcome.treatment.update_details:
            self._update_details(outcome)
        self._mandate_effects(outcome)
        if not outcome.done:
            outcome.done.append("Recorded")

    # --- changes to the mandate --------------------------------------------------------------

    def _tell(self, outcome: Outcome, notice) -> None:
        self.notices.append(notice)
        self.told[notice[2]] = outcome

    def _contact_suppressed(self, mandate: Mandate) -> bool:
        return bool(self.accounts[mandate.account_id].deceased) or (
            mandate.account_id in self.deceased_accounts
        )

    def _mandate_effects(self, outcome: Outcome) -> None:
        t, mandate, item = outcome.treatment, outcome.mandate, outcome.item
        live = mandate.status in LIVE_MANDATE_STATUSES
        if t.fail_mandate:
            if live:
                mandate.status = MandateStatus.FAILED
                mandate.cancelled_at = self.now
                mandate.cancellation_reason = t.words[:200]
                mandate.version += 1
                outcome.done.append("Mandate marked as failed")
                self._cancel_scheduled(outcome, "Direct Debit instruction rejected")
                if not self._contact_suppressed(mandate):
                    self._tell(
                        outcome,
                        (
                            self.accounts[mandate.account_id],
                            messages.rejected(reference=mandate.reference, words=item.description),
                            messages.rejected_key(mandate.id),
                        ),
                    )
                    outcome.done.append("Payer told")
            else:
                outcome.done.append(f"Mandate was already {mandate.status.value.replace('_', ' ')}")
        if t.cancel_mandate:
            if live:
                lodged = mandate.lodged_in_file_id is not None
                mandate.status = MandateStatus.CANCELLED
                mandate.cancelled_at = self.now
                mandate.cancellation_reason = t.words[:200]
                mandate.needs_cancel_instruction = t.send_cancel_instruction and lodged
                mandate.version += 1
                outcome.done.append(
                    "Mandate cancelled"
                    + (" (a 0C goes in the next file)" if mandate.needs_cancel_instruction else "")
                )
                self._cancel_scheduled(outcome, f"Mandate cancelled: {t.words}")
                if (
                    self.report.kind == "addacs"
                    and t.tell_payer
                    and not self._contact_suppressed(mandate)
                ):
                    self._tell(
                        outcome,
                        (
                            self.accounts[mandate.account_id],
                            messages.cancelled(reference=mandate.reference, words=item.description),
                            messages.cancelled_key(mandate.id),
                        ),
                    )
                    outcome.done.append("Payer told")
            elif self.report.kind != "arudd":
                outcome.done.append(f"Mandate was already {mandate.status.value.replace('_', ' ')}")
        if t.stop_collections and live and not mandate.collections_stopped_reason:
            mandate.collections_stopped_reason = t.words[:200]
            mandate.version += 1
            outcome.done.append("Collections stopped until an officer restarts them")
        if t.deceased:
            self.deceased_accounts.add(mandate.account_id)
            outcome.done.append("No messages to the payer; payment requests withdrawn")

    def _cancel_scheduled(self, outcome: Outcome, why: str) -> None:
        waiting = [
            c
            for c in self.scheduled.get(outcome.mandate.id, [])
            if c.status == CollectionStatus.SCHEDULED
        ]
        for collection in waiting:
            collection.status = CollectionStatus.CANCELLED
            collection.cancelled_reason = why[:200]
        if waiting:
            total = format_gbp(sum(c.amount_pence for c in waiting))
            count = len(waiting)
            outcome.done.append(
                f"{count} scheduled collection{'s' if count != 1 else ''} ({total}) cancelled"
            )

    def _update_details(self, outcome: Outcome) -> None:
        t, mandate, new = outcome.treatment, outcome.mandate, outcome.item.new_details
        if mandate.status not in LIVE_MANDATE_STATUSES:
            outcome.done.append(f"Mandate is {mandate.status.value}: details not changed")
            outcome.route("Check whether the payer wants a new Direct Debit")
            return
        if new is None or not (new.sort_code or new.account_number or new.name):
            outcome.done.append("The advice gives no new details")
            outcome.route("Ask the payer for their new bank details")
            return
        if new.sort_code or new.account_number:
            old = bank_details.open_sealed(mandate.bank_details_encrypted)
            try:
                details = bank_details.BankDetails(
                    new.sort_code or old.sort_code, new.account_number or old.account_number
                )
            except ValueError:
                outcome.done.append("The new bank details in the advice are not valid")
                outcome.route("Ask the payer for their new bank details")
                return
            mandate.bank_details_encrypted = bank_details.seal(details)
            mandate.account_ending = details.account_ending
            outcome.done.append(
                f"Bank details changed to account ending {details.account_ending} "
                f"(sort code {details.masked_sort_code})"
            )
        if new.name:
            mandate.account_holder_name = new.name.upper()[:18]
            outcome.done.append("Account holder's name updated")
        mandate.version += 1
        if t.new_instruction:
            mandate.status = MandateStatus.PENDING_SUBMISSION
            mandate.lodged_in_file_id = None
            mandate.lodged_on = None
            outcome.done.append("A new instruction (0N) goes in the next file")

    # --- writing -------------------------------------------------------------------------------

    def _carry_out(self, outcomes: list[Outcome]) -> None:
        # No flush until every change to the collections is made: one UPDATE each.
        with db.session.no_autoflush:
            # The item's own timeline entry says the payment was reversed, and why.
            done = reverse_payments(self.reversals, self.actor, timeline=False, requeue=False)
        for entry_id, reversal in done.items():
            for outcome in self.reversed_by[entry_id]:
                if reversal.reversal_entry_id is None:
                    outcome.done.append(
                        "Nothing left of the payment to reverse (refunded or moved)"
                    )
                    outcome.route("Check the payment: it was refunded or moved before the return")
        requeue_reversed([r.entry_id for r in done.values() if r.created])  # flushes
        self._write_returns()
        with db.session.no_autoflush:  # nothing pending bears on the outbox rows
            for account_id in sorted(self.deceased_accounts):
                hold_effects.withdraw_payment_requests(
                    account_id, self.actor, "Bacs report: the payer has died"
                )
        written = self._write_messages()
        for key, outcome in self.told.items():
            if written.get(key) is None:
                outcome.done = [
                    "Payer could not be told (no contact details)" if d == "Payer told" else d
                    for d in outcome.done
                ]
                outcome.route("Tell the payer: there are no contact details to write to")
        kept = []
        for collection, notice, key, outcome in self.represented:
            if written.get(key) is None:
                # Nobody could be given notice: no collection without it.
                outcome.done = [
                    "Not collected again: no advance notice could be given"
                    if d.startswith("To be collected again")
                    else d
                    for d in outcome.done
                ]
                continue
            notice["message_id"] = written[key]
            kept.append((collection, notice))
        notice_ids = bulk.insert(AdvanceNotice, [n for _, n in kept], returning_ids=True)
        bulk.insert(
            Collection,
            [c | {"advance_notice_id": i} for (c, _), i in zip(kept, notice_ids, strict=True)],
        )

    def _write_returns(self) -> None:
        """The returned collections, a few statements for the lot: their status and
        reason (grouped by reason), and each one's reversal (the entry reversing its
        payment, made above or earlier by hand)."""
        table = Collection.__table__
        groups: dict[tuple[str, str], list[int]] = defaultdict(list)
        for collection_id, reason in self.returned.items():
            groups[reason].append(collection_id)
        for (code, words), ids in groups.items():
            for chunk in chunks(sorted(ids)):
                db.session.execute(
                    sa.update(table)
                    .where(among(table.c.id, chunk))
                    .values(
                        status=CollectionStatus.RETURNED.value,
                        returned_at=self.now,
                        return_reason=code,
                        return_description=words,
                        updated_at=self.now,
                    )
                )
        reversal = (
            sa.select(LedgerEntry.id)
            .where(LedgerEntry.reverses_entry_id == table.c.payment_entry_id)
            .scalar_subquery()
        )
        for chunk in chunks(sorted(self.returned)):
            db.session.execute(
                sa.update(table)
                .where(
                    among(table.c.id, chunk),
                    table.c.payment_entry_id.is_not(None),
                    table.c.reversal_entry_id.is_(None),
                )
                .values(reversal_entry_id=reversal)
            )

    def _write_messages(self) -> dict[str, int | None]:
        """The payer messages, through notifications.notify_debtors (its channel choice,
        words and dedupe keys), inserted in bulk: dedupe key -> outbox row id, or None
        when nothing was written (no way to reach the payer, or sent before)."""
        if not self.notices:
            return {}
        written = notifications.notify_debtors(self.notices)
        rows = [m for m in written.values() if m is not None]
        columns = [c.key for c in OutboxMessage.__table__.columns if c.key != "id"]
        for message in rows:
            db.session.expunge(message)
        ids = bulk.insert(
            OutboxMessage,
            [{k: getattr(m, k) for k in columns if getattr(m, k) is not None} for m in rows],
            returning_ids=True,
        )
        id_of = {m.dedupe_key: i for m, i in zip(rows, ids, strict=True)}
        self.message_ids = [i for m, i in zip(rows, ids, strict=True) if m.channel in SENDABLE]
        return {key: id_of.get(key) for key in written}

"""The ledger property test's own model of the books, in plain Python.

Worked out from the rules in docs/ledger.md, never by calling the code under test:
what each invoice owes, what each credit was worth and where it went, and where
money goes when nobody chose (tests/integration/test_ledger_properties.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import (
    AccountHold,
    Allocation,
    ApprovalRequest,
    LedgerEntry,
    PaymentVerification,
    UnallocatedCredit,
)

REFUNDABLE = {"payment", "credit_note", "adjustment"}  # a write-off is never paid out


@dataclass
class Inv:
    account: int
    number: str
    total: int
    due: date
    allocated: int = 0
    reductions: dict[int, int] = field(default_factory=dict)  # live credit notes, write-offs

    @property
    def outstanding(self) -> int:
        return self.total - self.allocated


@dataclass
class Credit:
    account: int
    kind: str
    value: int
    allocs: Counter = field(default_factory=Counter)  # invoice id -> net pence
    drawn: int = 0  # refunded or transferred out
    reversed: int = 0
    reversal_id: int | None = None
    card: bool = False  # an online card payment, which a card refund can go back to
    hand: bool = False  # hand-recorded and left credit: has a verification row
    unverified: bool = False
    recorded_by: int | None = None
    invoice: int | None = None  # the invoice a credit note or write-off reduces

    @property
    def available(self) -> int:
        return self.value - sum(self.allocs.values()) - self.drawn - self.reversed


CREDITS_SQL = sa.text(
    """
    SELECT e.id, -e.amount_pence,
        (SELECT coalesce(sum(a.amount_pence), 0) FROM allocations a
         WHERE a.credit_entry_id = e.id),
        (SELECT coalesce(sum(d.amount_pence), 0) FROM ledger_entries d
         WHERE d.source_entry_id = e.id),
        (SELECT coalesce(sum(r.amount_pence), 0) FROM ledger_entries r
         WHERE r.reverses_entry_id = e.id)
    FROM ledger_entries e
    WHERE e.account_id IN :accounts AND e.amount_pence < 0
    """
).bindparams(sa.bindparam("accounts", expanding=True))


@dataclass(frozen=True)
class StoredCredits:
    allocations: dict[tuple[int, int], int]  # (credit, invoice) -> net pence, zeros left out
    values: dict[int, tuple[int, int, int, int]]  # credit -> (value, allocated, drawn, reversed)
    queued: dict[int, int]  # the unallocated queue: credit -> pence


def stored_credits(accounts: list[int]) -> StoredCredits:
    """The accounts' credits as the database has them, read with the test's own SQL
    (not balances.credit_values): a credit entry is one with a negative amount, and
    what was drawn from it names it as its source."""
    net: Counter = Counter()
    for credit_id, invoice_id, pence in db.session.execute(
        sa.select(Allocation.credit_entry_id, Allocation.invoice_id, Allocation.amount_pence)
        .join(LedgerEntry, LedgerEntry.id == Allocation.credit_entry_id)
        .where(LedgerEntry.account_id.in_(accounts))
    ):
        net[(credit_id, invoice_id)] += pence
    values = {
        row[0]: tuple(row[1:]) for row in db.session.execute(CREDITS_SQL, {"accounts": accounts})
    }
    queued = dict(
        db.session.execute(
            sa.select(UnallocatedCredit.credit_entry_id, UnallocatedCredit.unallocated_pence).where(
                UnallocatedCredit.account_id.in_(accounts)
            )
        ).all()
    )
    return StoredCredits({k: v for k, v in net.items() if v}, values, queued)


class BookModel:
    """The model's state and rules, for the state machine to inherit."""

    def __init__(self):
        super().__init__()
        self.invs: dict[int, Inv] = {}
        self.credits_: dict[int, Credit] = {}
        self.balance: dict[int, int] = {}
        self.holds: dict[int, tuple[int, int | None]] = {}  # hold -> (account, invoice or all)
        self.returned: dict[int, int] = {}  # refund entry -> its returned-money credit
        self.refund_amount: dict[int, tuple[int, int]] = {}  # refund entry -> (account, pence)
        self.requests: dict[int, tuple[int, int]] = {}  # request -> (credit, pence)

    # --- the model's own rules -----------------------------------------------------------

    def _held(self, account: int) -> set[int | None]:
        return {inv for acc, inv in self.holds.values() if acc == account}

    def oldest_first(self, account: int, available: int) -> dict[int, int]:
        """Where money goes when nobody chose: never to a disputed or queried invoice,
        otherwise the earliest due first, ties to the lower invoice id."""
        held = self._held(account)
        if None in held:
            return {}
        plan: dict[int, int] = {}
        for _due, invoice_id in sorted(
            (inv.due, i)
            for i, inv in self.invs.items()
            if inv.account == account and i not in held and inv.outstanding > 0
        ):
            if available == 0:
                break
            plan[invoice_id] = min(available, self.invs[invoice_id].outstanding)
            available -= plan[invoice_id]
        return plan

    def explicit_refused(self, account: int, available: int, requested) -> bool:
        """Whether the payer's or officer's own choice of invoices must be refused."""
        seen, total = set(), 0
        for invoice_id, pence in requested:
            inv = self.invs.get(invoice_id)
            if invoice_id in seen or pence <= 0:
                return True
            if inv is None or inv.account != account or not 0 < pence <= inv.outstanding:
                return True
            seen.add(invoice_id)
            total += pence
        return total > available

    def _apply(self, credit_id: int, plan: dict[int, int]) -> None:
        for invoice_id, pence in plan.items():
            self.invs[invoice_id].allocated += pence
            self.credits_[credit_id].allocs[invoice_id] += pence

    # --- checking what the services did --------------------------------------------------

    def _snapshot(self):
        """Everything a refused operation must leave as it was."""
        counts = [
            db.session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in (LedgerEntry, Allocation, AccountHold, UnallocatedCredit)
        ]
        statuses = db.session.execute(
            sa.select(ApprovalRequest.status, sa.func.count()).group_by(ApprovalRequest.status)
        ).all()
        verified = db.session.execute(
            sa.select(PaymentVerification.status, sa.func.count()).group_by(
                PaymentVerification.status
            )
        ).all()
        return counts, sorted(statuses), sorted(verified)

    def _refused(self, refusal: type[Exception], call) -> None:
        before = self._snapshot()
        with pytest.raises(refusal):
            call()
        db.session.rollback()  # what the request's teardown does; use cases already have
        assert self._snapshot() == before

    @staticmethod
    def _reached(rows) -> dict[int, int]:
        """Which invoices a credit's allocation rows reached, and how much."""
        reached: Counter = Counter()
        for row in rows:
            reached[row.invoice_id] += row.amount_pence
        return dict(reached)

    def _new_credit(self, entry: LedgerEntry, kind: str, **fields) -> int:
        assert entry.id not in self.credits_
        self.credits_[entry.id] = Credit(entry.account_id, kind, -entry.amount_pence, **fields)
        self.balance[entry.account_id] += entry.amount_pence
        return entry.id

    def expected_allocations(self) -> dict[tuple[int, int], int]:
        return {
            (credit_id, invoice_id): pence
            for credit_id, c in self.credits_.items()
            for invoice_id, pence in c.allocs.items()
            if pence
        }

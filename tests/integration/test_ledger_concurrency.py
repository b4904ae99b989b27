"""Two officers (or an officer and a webhook) changing one account's money at the same
moment: the account row lock (ledger.lock_account, SELECT ... FOR UPDATE) must make
them take turns, so no invoice is paid twice over, no credit is spent twice and the
balance is exactly what both did.

PostgreSQL only: SQLite lets one writer at a time into the whole database, so two
transactions never interleave there and there is no row lock to test.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date

import pytest
import sqlalchemy as sa

from shared.extensions import db
from shared.models import Allocation, Invoice, PaymentMethod
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import balances, ledger
from shared.services.actors import SYSTEM
from shared.services.errors import ServiceError
from tests.conftest import _is_postgres
from tests.factories import make_account, make_department

pytestmark = pytest.mark.skipif(
    not _is_postgres(),
    reason=(
        "PostgreSQL only: SQLite serialises every writer on one database-wide lock, so two "
        "transactions never interleave and the account row lock has nothing to prevent"
    ),
)

ROUNDS = 12
SPARE = 80_00  # an unallocated credit both sessions try to spend each round
MOVE = 50_00  # each session tries to move this much of it: only one can
PAYMENT = 70_00
CREDIT_NOTE = 50_00


@dataclass
class Done:
    """What the sessions did, as each reported it (successes only)."""

    payments: list[int] = field(default_factory=list)
    credit_notes: list[int] = field(default_factory=list)
    transfers: list[tuple[int, int]] = field(default_factory=list)  # (credit, pence)
    allocations: list[tuple[int, int]] = field(default_factory=list)  # (credit, pence)
    refusals: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # anything but a refusal: a race
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, value) -> None:
        with self.lock:
            getattr(self, what).append(value)


def session_work(app, start: threading.Barrier, done: Done, steps) -> None:
    """One session: its own app context, so its own SQLAlchemy session and connection."""
    with app.app_context():
        try:
            start.wait(timeout=30)
            for step in steps:
                try:
                    step(done)
                except ServiceError as exc:  # a refusal the rules allow: nothing was written
                    done.note("refusals", f"{step.__name__}: {exc}")
        except Exception as exc:  # a deadlock, a unique violation...: report it, never hide it
            done.note("errors", f"{type(exc).__name__}: {exc}")
        finally:
            db.session.remove()


def test_two_sessions_paying_and_crediting_one_account_at_once_keep_the_books(app):
    department = make_department().id
    account, other = make_account().id, make_account().id
    invoices: list[int] = []
    spares: list[int] = []
    done = Done()

    for n in range(ROUNDS):
        older, newer = (
            ledger.raise_invoice(
                account_id=account,
                department_id=department,
                number=f"CC-{n}-{k}",
                issue_date=date(2026, 1, 1),
                due_date=date(2026, 1, 10 + k),
                description="Trade waste",
                lines=[ledger.LineInput("Collections", 1, pence)],
                actor=SYSTEM,
            ).id
            for k, pence in ((1, 100_00), (2, 60_00))
        )
        invoices += [older, newer]
        # Money held back from the invoices (an empty choice): spare credit to fight over.
        spare = ledger.record_payment(
            account_id=account,
            amount_pence=SPARE,
            method=PaymentMethod.BANK_TRANSFER,
            allocations=[],
            actor=SYSTEM,
        ).entry.id
        spares.append(spare)
        db.session.remove()  # the test's own session holds nothing while they run

        def pay(done, n=n):
            result = ledger.record_payment(
                account_id=account,
                amount_pence=PAYMENT,
                method=PaymentMethod.DIRECT_DEBIT,
                external_reference=f"DD-{n}",
                actor=SYSTEM,
            )
            done.note("payments", -result.entry.amount_pence)

        def credit_note(done, invoice=older):
            entry = ledger.raise_credit_note(
                invoice_id=invoice, amount_pence=CREDIT_NOTE, reason="Bin not emptied", actor=SYSTEM
            )
            done.note("credit_notes", -entry.amount_pence)

        def allocate_spare(done, spare=spare):
            rows = ledger.allocate(credit_entry_id=spare, actor=SYSTEM)
            done.note("allocations", (spare, sum(r.amount_pence for r in rows)))

        def move_spare(done, spare=spare):
            out_entry, _ = ledger.transfer_credit(
                source_entry_id=spare,
                to_account_id=other,
                amount_pence=MOVE,
                reason="Paid against the wrong account",
                actor=SYSTEM,
            )
            done.note("transfers", (spare, out_entry.amount_pence))

        start = threading.Barrier(2)
        sessions = [
            threading.Thread(
                target=session_work, args=(app, start, done, [pay, allocate_spare, move_spare])
            ),
            threading.Thread(
                target=session_work,
                args=(app, start, done, [credit_note, move_spare, allocate_spare]),
            ),
        ]
        for session in sessions:
            session.start()
        for session in sessions:
            session.join(timeout=60)
            assert not session.is_alive(), "a session is stuck waiting for a lock"

    assert done.errors == []
    assert len(done.payments) == len(done.credit_notes) == ROUNDS

    # The books reconcile, and no invoice is paid beyond its total.
    assert ledger_discrepancies() == []
    allocated = dict(
        db.session.execute(
            sa.select(Invoice.id, sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0))
            .outerjoin(Allocation, Allocation.invoice_id == Invoice.id)
            .where(Invoice.account_id == account)
            .group_by(Invoice.id)
        ).all()
    )
    totals = dict(
        db.session.execute(
            sa.select(Invoice.id, Invoice.total_pence).where(Invoice.id.in_(invoices))
        )
        .tuples()
        .all()
    )
    for invoice in invoices:
        assert 0 <= allocated[invoice] <= totals[invoice], invoice

    # No credit spent twice: of each round's spare £80, at most one £50 left the
    # account, and what was allocated and moved out fits in it.
    values = {v.entry_id: v for v in balances.credit_values(account)}
    for spare in spares:
        moved = [pence for credit, pence in done.transfers if credit == spare]
        spent = sum(pence for credit, pence in done.allocations if credit == spare)
        assert len(moved) <= 1
        assert values[spare].allocated_pence == spent
        assert values[spare].drawn_pence == sum(moved)
        assert spent + sum(moved) <= SPARE
    assert all(v.available_pence >= 0 for v in values.values())

    # Each balance is the sum of what both sessions did, and nothing else.
    moved_out = sum(pence for _, pence in done.transfers)
    assert balances.account_balance(account) == (
        sum(totals.values())
        - SPARE * ROUNDS
        - sum(done.payments)
        - sum(done.credit_notes)
        + moved_out
    )
    assert balances.account_balance(other) == -moved_out

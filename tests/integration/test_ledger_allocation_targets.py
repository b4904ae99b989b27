"""Which holds keep money nobody allocated away from an invoice: only this account's,
only while in force (shared/services/allocation_targets.py).

Found by mutation testing (docs/mutation-testing.md): the examples in
test_ledger_services.py place holds that are in force on the one account they pay,
so a query that read every account's holds, or forgot when a hold ends, passed them.
Likewise a plan that is no longer active, and an invoice already part paid when the
next payment arrives (what balances.open_items says each invoice still owes).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.domain.holds import HoldTerms
from shared.models import (
    Arrangement,
    ArrangementStatus,
    Frequency,
    LedgerEntry,
    PaymentMethod,
    PaymentRoute,
)
from shared.services import balances, holds, ledger, plans
from shared.services.actors import SYSTEM, staff
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def officer(app):
    return make_staff()


@pytest.fixture
def account(app):
    return make_account()


def _invoice(account, number: str, pence: int, due: date):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=number,
        issue_date=date(2026, 1, 1),
        due_date=due,
        description="Service",
        lines=[ledger.LineInput("Service", 1, pence)],
        actor=SYSTEM,
    )


def _dispute(account, officer, *, invoice_id=None, starts=TODAY, ends=None):
    return holds.place_hold(
        account.id,
        HoldTerms("dispute", starts, ends or starts + timedelta(days=28)),
        "Says the service was not provided",
        staff(officer.id),
        today=starts,
        invoice_id=invoice_id,
    )


def _pay(account, pence: int) -> None:
    ledger.record_payment(
        account_id=account.id, amount_pence=pence, method=PaymentMethod.CHEQUE, actor=SYSTEM
    )


def test_a_dispute_on_another_account_does_not_hold_this_accounts_money(officer):
    account = make_account()
    neighbour = make_account(surname="Jones")
    invoice = _invoice(account, "A1", 3_000, date(2026, 2, 1))
    _dispute(neighbour, officer)  # the whole of the neighbour's account

    _pay(account, 1_000)

    assert balances.invoice_outstanding(invoice.id) == 2_000


def test_a_dispute_that_has_ended_no_longer_holds_money_back(officer):
    account = make_account()
    invoice = _invoice(account, "A1", 3_000, date(2026, 2, 1))
    started = TODAY - timedelta(days=20)
    _dispute(
        account, officer, invoice_id=invoice.id, starts=started, ends=TODAY - timedelta(days=1)
    )

    _pay(account, 1_000)

    assert balances.invoice_outstanding(invoice.id) == 2_000


def test_a_dispute_ending_today_still_holds_money_back(officer):
    account = make_account()
    disputed = _invoice(account, "A1", 3_000, date(2026, 2, 1))
    other = _invoice(account, "A2", 3_000, date(2026, 3, 1))
    started = TODAY - timedelta(days=20)
    _dispute(account, officer, invoice_id=disputed.id, starts=started, ends=TODAY)

    _pay(account, 1_000)

    assert balances.invoice_outstanding(disputed.id) == 3_000
    assert balances.invoice_outstanding(other.id) == 2_000


def test_a_lifted_dispute_no_longer_holds_money_back(officer):
    account = make_account()
    invoice = _invoice(account, "A1", 3_000, date(2026, 2, 1))
    hold = _dispute(account, officer, invoice_id=invoice.id)
    holds.lift_hold(hold.id, "Resolved: service was provided", staff(officer.id), today=TODAY)

    _pay(account, 1_000)

    assert balances.invoice_outstanding(invoice.id) == 2_000


# --- plans, and what each invoice still owes when money arrives again ---------------------


def test_a_broken_plans_invoices_are_no_longer_paid_first(account, db):
    older = _invoice(account, "O1", 2_000, date(2026, 1, 15))
    planned = _invoice(account, "P1", 3_000, date(2026, 3, 1))
    proposed = plans.propose(
        account_id=account.id,
        invoice_ids=[planned.id],
        terms=plans.Terms(Frequency.MONTHLY, TODAY + timedelta(days=7), count=3),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    # The plan monitor marks a plan broken (shared/jobs/plan_monitor.py); set here directly.
    db.session.execute(
        sa.update(Arrangement)
        .where(Arrangement.account_id == account.id)
        .values(status=ArrangementStatus.BROKEN)
    )
    db.session.commit()
    assert proposed is not None

    ledger.record_payment(
        account_id=account.id, amount_pence=2_000, method=PaymentMethod.CARD, actor=SYSTEM
    )

    assert balances.invoice_outstanding(older.id) == 0
    assert balances.invoice_outstanding(planned.id) == 3_000


def _allocations(entry: LedgerEntry) -> list[tuple[int, int]]:
    return sorted((a.invoice_id, a.amount_pence) for a in entry.allocations)


def test_a_second_payment_pays_only_what_each_invoice_still_owes(account):
    first = _invoice(account, "A1", 1_000, date(2026, 1, 31))
    second = _invoice(account, "A2", 1_000, date(2026, 2, 28))
    ledger.record_payment(
        account_id=account.id, amount_pence=1_400, method=PaymentMethod.CARD, actor=SYSTEM
    )

    again = ledger.record_payment(
        account_id=account.id, amount_pence=500, method=PaymentMethod.CARD, actor=SYSTEM
    ).entry

    assert _allocations(again) == [(second.id, 500)]
    assert balances.invoice_outstanding(first.id) == 0
    assert balances.invoice_outstanding(second.id) == 100


def test_a_part_paid_invoice_takes_only_its_remainder_before_the_next_one(account):
    first = _invoice(account, "A1", 1_000, date(2026, 1, 31))
    second = _invoice(account, "A2", 1_000, date(2026, 2, 28))
    ledger.record_payment(
        account_id=account.id, amount_pence=400, method=PaymentMethod.CARD, actor=SYSTEM
    )

    again = ledger.record_payment(
        account_id=account.id, amount_pence=1_000, method=PaymentMethod.CARD, actor=SYSTEM
    ).entry

    assert _allocations(again) == sorted([(first.id, 600), (second.id, 400)])


def test_the_last_penny_owed_is_settled_by_the_next_payment(account):
    invoice = _invoice(account, "A1", 1_000, date(2026, 1, 31))
    ledger.record_payment(
        account_id=account.id, amount_pence=999, method=PaymentMethod.CARD, actor=SYSTEM
    )

    last = ledger.record_payment(
        account_id=account.id, amount_pence=1, method=PaymentMethod.CARD, actor=SYSTEM
    ).entry

    assert _allocations(last) == [(invoice.id, 1)]
    assert balances.unallocated_credit(account.id) == 0

"""Which holds keep money nobody allocated away from an invoice: only this account's,
only while in force (shared/services/allocation_targets.py).

Found by mutation testing (docs/mutation-testing.md): the examples in
test_ledger_services.py place holds that are in force on the one account they pay,
so a query that read every account's holds, or forgot when a hold ends, passed them.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shared.domain.holds import HoldTerms
from shared.models import PaymentMethod
from shared.services import balances, holds, ledger
from shared.services.actors import SYSTEM, staff
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def officer(app):
    return make_staff()


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

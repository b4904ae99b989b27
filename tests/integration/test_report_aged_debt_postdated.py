"""A post-dated credit in the aged-debt report as at a past date: a payment entered on
one day with a later effective date (a post-dated cheque) and allocated when entered
settles its invoice only from its effective date, however early the allocation was made.
The dated statement finds such credits apart from the rest (shared/reports/aged_debt_sql.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.models import PaymentMethod
from shared.reports import aged_debt_sql as q
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


def _on(time_machine, day: date) -> None:
    time_machine.move_to(datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC), tick=True)


def _owed(day: date) -> dict[int, int]:
    return q.outstanding_by_account(q.AsAt.of(day, TODAY))


def _total(day: date) -> int:
    return sum(c.outstanding_pence for c in q.aged(q.AsAt.of(day, TODAY)).cells)


def test_a_post_dated_payment_settles_its_invoice_only_from_its_effective_date(db, time_machine):
    dept = make_department("WASTE", name="Trade waste")
    payer, other = make_account(surname="Post"), make_account(surname="Plain")
    _on(time_machine, date(2026, 3, 1))
    for account, number in ((payer, "P-1"), (other, "Q-1")):
        ledger.raise_invoice(
            account_id=account.id,
            department_id=dept.id,
            number=number,
            issue_date=date(2026, 3, 1),
            due_date=date(2026, 3, 31),
            description="Service",
            lines=[ledger.LineInput("Service", 1, 30_000)],
            actor=SYSTEM,
        )
    _on(time_machine, date(2026, 4, 1))
    # Entered and allocated on 1 April, effective 20 April; and an ordinary payment.
    ledger.record_payment(
        account_id=payer.id,
        amount_pence=10_000,
        method=PaymentMethod.CHEQUE,
        effective_date=date(2026, 4, 20),
        actor=SYSTEM,
    )
    ledger.record_payment(
        account_id=other.id, amount_pence=5_000, method=PaymentMethod.CHEQUE, actor=SYSTEM
    )
    _on(time_machine, TODAY)

    assert _owed(date(2026, 3, 31)) == {payer.id: 30_000, other.id: 30_000}
    assert _owed(date(2026, 4, 10)) == {payer.id: 30_000, other.id: 25_000}
    assert _owed(date(2026, 4, 20)) == {payer.id: 20_000, other.id: 25_000}
    assert _total(date(2026, 4, 10)) == 55_000
    assert _total(date(2026, 4, 20)) == 45_000
    assert _total(TODAY) == 45_000

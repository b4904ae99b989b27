"""Services count business days in England, even in the first hour of a summer day.

Between midnight and 1 a.m. BST the UTC date is still yesterday. Each test here
happens in that hour (23:30 UTC on 30 June is 00:30 BST on 1 July), given in UTC so
time-machine sets the process's own zone to UTC too: a service that still took its
day from the UTC date, or from the machine's local date, would say 30 June.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shared.models import ApprovalKind, ApprovalRequest, ApprovalStatus, LedgerEntry, PaymentMethod
from shared.services import approvals, audit_view, ledger
from shared.services.actors import SYSTEM
from shared.services.history import record_audit
from tests.factories import make_account, make_department, make_staff

HALF_PAST_MIDNIGHT_BST_1_JULY = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
HALF_PAST_ELEVEN_GMT_31_DECEMBER = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


def _owing(pence: int):
    account = make_account()
    ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV00009001",
        issue_date=date(2026, 5, 1),
        due_date=date(2026, 5, 31),
        description="Trade waste",
        lines=[ledger.LineInput("Bin lifts", 1, pence)],
        actor=SYSTEM,
    )
    return account


@pytest.mark.time_machine(HALF_PAST_MIDNIGHT_BST_1_JULY)
def test_a_payment_taken_at_half_past_midnight_in_summer_is_dated_that_day(app, db):
    account = _owing(5_000)

    result = ledger.record_payment(
        account_id=account.id, amount_pence=2_000, method=PaymentMethod.CASH, actor=SYSTEM
    )

    entry = db.session.get(LedgerEntry, result.entry.id)
    assert entry.effective_date == date(2026, 7, 1)
    # The timestamp stays what it was: naive UTC.
    assert entry.created_at.replace(second=0, microsecond=0) == datetime(2026, 6, 30, 23, 30)


@pytest.mark.time_machine(HALF_PAST_ELEVEN_GMT_31_DECEMBER)
def test_a_payment_taken_late_on_a_winter_evening_is_dated_that_day(app, db):
    account = _owing(5_000)

    result = ledger.record_payment(
        account_id=account.id, amount_pence=2_000, method=PaymentMethod.CASH, actor=SYSTEM
    )

    assert db.session.get(LedgerEntry, result.entry.id).effective_date == date(2026, 12, 31)


def test_an_audit_search_by_day_finds_what_happened_in_the_first_hour_of_a_summer_day(app, db):
    first_hour = record_audit(SYSTEM, "test.first_hour", "thing", 1)
    first_hour.occurred_at = datetime(2026, 6, 30, 23, 30)  # 00:30 BST on 1 July
    evening_before = record_audit(SYSTEM, "test.evening_before", "thing", 2)
    evening_before.occurred_at = datetime(2026, 6, 30, 22, 30)  # 23:30 BST on 30 June
    db.session.commit()

    def actions(**days) -> list[str]:
        wanted = audit_view.AuditFilter(action="test.", **days)
        return [row.action for row in audit_view.audit_page(wanted).rows]

    assert actions(on_or_after=date(2026, 7, 1)) == ["test.first_hour"]
    assert actions(on_or_before=date(2026, 6, 30)) == ["test.evening_before"]
    assert actions(on_or_after=date(2026, 7, 1), on_or_before=date(2026, 7, 1)) == [
        "test.first_hour"
    ]


def test_a_running_total_from_1_july_counts_a_request_made_at_half_past_midnight_bst(app, db):
    officer = make_staff()
    account = _owing(50_000)

    def request(at: datetime, pence: int) -> None:
        db.session.add(
            ApprovalRequest(
                account_id=account.id,
                kind=ApprovalKind.WRITE_OFF,
                amount_pence=pence,
                reason_code="other",
                reason="Test",
                payload={},
                requested_by_staff_id=officer.id,
                requested_at=at,
                status=ApprovalStatus.APPROVED,
            )
        )

    request(datetime(2026, 6, 30, 23, 30), 1_000)  # 00:30 BST on 1 July: counted
    request(datetime(2026, 6, 30, 22, 30), 300)  # 23:30 BST on 30 June: before the period
    db.session.commit()

    total = approvals.running_total(
        officer.id, account.id, ApprovalKind.WRITE_OFF, since=date(2026, 7, 1)
    )

    assert total == 1_000


@pytest.mark.time_machine(HALF_PAST_MIDNIGHT_BST_1_JULY)
def test_a_limit_period_counts_back_from_englands_date(app):
    app.config["APPROVAL_LIMIT_PERIOD_MONTHS"] = 1

    # One month back from 1 July; from the UTC date (30 June) it would be 30 May.
    assert approvals.period_since() == date(2026, 6, 1)

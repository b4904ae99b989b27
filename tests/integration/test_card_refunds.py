"""Refunds to a card: an outbox row written with the ledger refund, sent by the outbox
job through the real stripe SDK to the local Stripe stand-in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.jobs import outbox
from shared.models import (
    ApprovalStatus,
    AuditLog,
    ContactEvent,
    EntryKind,
    LedgerEntry,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    PaymentMethod,
    StaffRole,
)
from shared.services import actors, approval_queues, approvals, balances, card_payments, ledger
from shared.services.actors import SYSTEM
from shared.services.card_payments import CheckoutRequest
from shared.services.errors import InvalidRequest
from tests.factories import make_account, make_department, make_staff
from tests.stripe_fixtures import press

SUCCESS = "http://127.0.0.1:5000/pay/return/x?session={CHECKOUT_SESSION_ID}"
CANCEL = "http://127.0.0.1:5000/pay/amount"


@pytest.fixture
def card_gateway(app, gateway):
    """The outbox job finds the gateway where the app keeps it."""
    app.extensions["payment_gateway"] = gateway
    yield gateway
    app.extensions.pop("payment_gateway", None)


@pytest.fixture
def overpaid_by_card(app, card_gateway, receiver):
    """An invoice cleared by bank transfer while the payer was paying it by card: the
    card payment of £45 lands as unallocated credit, the usual reason for a card refund."""
    account = make_account(email="payer@example.com")
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV-RF1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        description="Trade waste",
        lines=[ledger.LineInput("Collections", 1, 12_000)],
        actor=SYSTEM,
    )
    row = card_payments.begin_checkout(
        CheckoutRequest(
            account.id,
            [(invoice.id, 4_500)],
            submission_key=card_payments.new_submission_key(),
            receipt_email=account.email,
        ),
        SYSTEM,
    )
    opened = card_payments.open_checkout(
        row.id, card_gateway, success_url=SUCCESS, cancel_url=CANCEL
    )
    ledger.record_payment(
        account_id=account.id,
        amount_pence=12_000,
        method=PaymentMethod.BANK_TRANSFER,
        actor=SYSTEM,
        external_reference="BGC RF1",
    )
    assert press(opened.provider_session_url, "pay").status_code == 303
    assert receiver.wait_for("checkout.session.completed")
    card_payments.reconcile_checkouts(card_gateway, older_than=timedelta(0))
    payment = the_card_payment(account.id)
    assert approval_queues.refundable_credits(account.id)[-1].available_pence == 4_500
    return account, payment


def the_card_payment(account_id: int) -> LedgerEntry:
    return ledger_db().scalar(
        sa.select(LedgerEntry).where(
            LedgerEntry.account_id == account_id, LedgerEntry.method == PaymentMethod.CARD
        )
    )


def ledger_db():
    from shared.extensions import db

    db.session.expire_all()
    return db.session


def refunds_at_provider(gateway, payment_intent_id: str) -> list[dict]:
    listed = gateway._client.v1.refunds.list(params={"payment_intent": payment_intent_id})
    return [r.to_dict() for r in listed.data]


def refund_rows() -> list[OutboxMessage]:
    return (
        ledger_db()
        .scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == OutboxChannel.REFUND))
        .all()
    )


def officer(limit_pence: int = 10_000):
    person = make_staff(StaffRole.OFFICER, refund_limit_pence=limit_pence)
    return actors.staff(person.id, "203.0.113.9")


def approved_card_refund(payment_id: int, amount_pence: int, reason: str) -> approvals.Decision:
    """Every refund needs a second person: an officer asks and a team leader approves."""
    requested = approvals.request_refund(
        source_entry_id=payment_id,
        amount_pence=amount_pence,
        route="card",
        reason=reason,
        actor=officer(),
    )
    assert not requested.posted
    leader = make_staff(StaffRole.TEAM_LEADER, refund_limit_pence=100_000)
    return approvals.approve(request_id=requested.request.id, actor=actors.staff(leader.id))


def test_refund_to_card_reaches_the_stand_in_exactly_once_even_if_the_job_runs_twice(
    overpaid_by_card, card_gateway
):
    account, payment = overpaid_by_card
    account_id, payment_intent_id = account.id, payment.external_reference

    decision = approved_card_refund(payment.id, 4_500, "Paid twice")

    assert decision.request.status == ApprovalStatus.APPROVED
    [row] = refund_rows()
    row_id = row.id
    assert row.recipient == payment_intent_id
    assert row.payload["refund_entry_id"] == decision.request.ledger_entry_id
    assert outbox.deliver_message(row_id) == "sent"
    assert outbox.deliver_message(row_id) == "skipped: not pending"
    [refund] = refunds_at_provider(card_gateway, payment_intent_id)
    assert refund["amount"] == 4_500
    assert refund["status"] == "succeeded"
    row = refund_rows()[0]
    assert row.status == OutboxStatus.SENT
    assert row.provider_id == refund["id"]
    assert balances.account_balance(account_id) == 0


def test_a_card_refund_resent_after_a_worker_died_is_still_made_once(
    overpaid_by_card, card_gateway
):
    # A worker dies after the provider accepted the refund and before it recorded
    # that: the sweeper puts the row back to pending and it goes again. The
    # idempotency key makes the provider answer with the first refund.
    account, payment = overpaid_by_card
    payment_intent_id = payment.external_reference
    approved_card_refund(payment.id, 2_000, "Part refund agreed on the phone")
    row_id = refund_rows()[0].id
    assert outbox.deliver_message(row_id) == "sent"
    first_refund_id = refund_rows()[0].provider_id
    session = ledger_db()
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status=OutboxStatus.PENDING, provider_id=None)
    )
    session.commit()

    assert outbox.deliver_message(row_id) == "sent"

    assert [r["id"] for r in refunds_at_provider(card_gateway, payment_intent_id)] == [
        first_refund_id
    ]
    assert refund_rows()[0].provider_id == first_refund_id


def test_a_card_refund_over_the_limit_is_sent_only_when_a_team_leader_approves(
    overpaid_by_card, card_gateway
):
    account, payment = overpaid_by_card
    payment_intent_id = payment.external_reference
    requested = approvals.request_refund(
        source_entry_id=payment.id,
        amount_pence=4_500,
        route="card",
        reason="Paid twice",
        actor=officer(limit_pence=1_000),
    )
    assert not requested.posted
    assert refund_rows() == []

    leader = make_staff(StaffRole.TEAM_LEADER, refund_limit_pence=100_000)
    decision = approvals.approve(request_id=requested.request.id, actor=actors.staff(leader.id))

    assert decision.request.status == ApprovalStatus.APPROVED
    assert outbox.deliver_message(refund_rows()[0].id) == "sent"
    assert [r["amount"] for r in refunds_at_provider(card_gateway, payment_intent_id)] == [4_500]


def test_a_refund_the_provider_refuses_fails_visibly_and_puts_the_money_back_as_credit(
    app, card_gateway
):
    # A card payment the provider does not know (e.g. taken on another account at
    # Stripe): the refund is refused for good, not retried.
    account = make_account()
    account_id = account.id
    payment = ledger.record_payment(
        account_id=account_id,
        amount_pence=3_000,
        method=PaymentMethod.CARD,
        actor=SYSTEM,
        external_reference="pi_unknown_to_the_provider",
    ).entry
    approved_card_refund(payment.id, 3_000, "Paid in error")
    assert balances.account_balance(account_id) == 0
    row_id = refund_rows()[0].id

    assert outbox.deliver_message(row_id) == "failed"
    assert outbox.deliver_message(row_id) == "skipped: not pending"

    row = refund_rows()[0]
    assert row.status == OutboxStatus.FAILED
    session = ledger_db()
    [returned] = session.scalars(
        sa.select(LedgerEntry).where(
            LedgerEntry.account_id == account_id, LedgerEntry.kind == EntryKind.ADJUSTMENT
        )
    ).all()
    assert returned.amount_pence == -3_000
    assert returned.reverses_entry_id == row.payload["refund_entry_id"]
    # The money is credit again, and could be refunded another way.
    assert balances.account_balance(account_id) == -3_000
    assert balances.unallocated_credit(account_id) == 3_000
    summaries = session.scalars(
        sa.select(ContactEvent.summary).where(ContactEvent.account_id == account_id)
    ).all()
    assert (
        "Card refund of £30.00 not made: the card payment was not found at the card provider"
        in summaries
    )
    assert any(s.startswith("Refund of £30.00 not made") for s in summaries)
    actions = session.scalars(
        sa.select(AuditLog.action).where(AuditLog.account_id == account_id)
    ).all()
    assert {"outbox.failed", "refund.returned"} <= set(actions)


def test_only_an_online_card_payment_can_be_refunded_to_a_card(app):
    account = make_account()
    payment = ledger.record_payment(
        account_id=account.id,
        amount_pence=3_000,
        method=PaymentMethod.CHEQUE,
        actor=SYSTEM,
        external_reference="CHQ 100200",
    ).entry

    with pytest.raises(InvalidRequest, match="Only an online card payment"):
        approvals.request_refund(
            source_entry_id=payment.id,
            amount_pence=3_000,
            route="card",
            reason="Paid in error",
            actor=officer(),
        )

    assert refund_rows() == []
    assert balances.account_balance(account.id) == -3_000

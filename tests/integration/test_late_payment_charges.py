"""Late Payment Act charges posted as invoices of their own: only on overdue commercial
debts of organisations, never in Breathing Space, never on a charge, each once.

Expected interest is worked by hand: amount x (base rate on the reference day + 8%)
x days / 365, rounded half a penny up. The seeded base rates give 4.25% for July to
December 2025 (the rate on 30 June 2025) and 4% for January to June 2026 (the rate
on 31 December 2025, after the 7 August 2025 cut)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from shared.domain import late_payment as rules
from shared.models import (
    AccountHold,
    AuditLog,
    BreathingSpaceType,
    ContactEvent,
    DebtorKind,
    Invoice,
    LatePaymentCharge,
    LedgerEntry,
    PaymentMethod,
)
from shared.models.holds import HoldKind
from shared.models.legal import ChargeKind
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import account_view, balances, ledger
from shared.services.actors import SYSTEM, staff
from shared.services.legal import late_payment
from tests.factories import make_account, make_department, make_portal_login, make_staff
from tests.frozen_clock import frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def world(app, db):
    officer = make_staff()
    commercial = make_department(name="Trade waste", is_commercial=True)
    care = make_department(name="Adult social care")
    company = make_account(kind=DebtorKind.ORGANISATION, organisation_name="Borchester Bakery Ltd")
    numbers = iter(range(1, 1000))

    def invoice(pence, due, *, account=company, department=commercial):
        return ledger.raise_invoice(
            account_id=account.id,
            department_id=department.id,
            number=f"INV{next(numbers):08d}",
            issue_date=date(2025, 6, 1),
            due_date=due,
            description="Trade waste collection",
            lines=[ledger.LineInput("Trade waste collection", 1, pence)],
            actor=staff(officer.id),
        ).id

    return type(
        "World",
        (),
        {
            "officer": officer,
            "commercial": commercial,
            "care": care,
            "company": company,
            "invoice": staticmethod(invoice),
        },
    )


def charges(db, invoice_id=None):
    query = sa.select(LatePaymentCharge).order_by(LatePaymentCharge.id)
    if invoice_id is not None:
        query = query.where(LatePaymentCharge.invoice_id == invoice_id)
    return list(db.session.scalars(query))


def test_a_late_commercial_debt_gets_compensation_and_interest_posted_as_charge_invoices(world, db):
    debt = world.invoice(500_000, date(2026, 1, 1))
    summary = late_payment.charge_invoices(date(2026, 1, 31), [debt], SYSTEM)

    # £70 for a debt from £1,000; 2 to 31 January: 30 days at 4% + 8% on £5,000 = 49.315...
    assert (summary.compensation_count, summary.interest_count) == (1, 1)
    assert summary.by_invoice == {debt: 7_000 + 4_932}
    assert summary.total_pence == 11_932
    comp, interest = charges(db, debt)
    assert (comp.kind, comp.amount_pence, comp.dedupe_key) == (
        ChargeKind.COMPENSATION,
        7_000,
        f"lpa-comp-{debt}",
    )
    assert (interest.kind, interest.amount_pence, interest.interest_from, interest.interest_to) == (
        ChargeKind.INTEREST,
        4_932,
        date(2026, 1, 2),
        date(2026, 1, 31),
    )
    assert interest.base_rate_basis_points == 400
    assert interest.dedupe_key == f"lpa-int-{debt}-20260131"

    comp_invoice = db.session.get(Invoice, comp.charge_invoice_id)
    assert comp_invoice.number == "LPC00000001"
    assert comp_invoice.description == "Late Payment Act fixed compensation on INV00000001"
    assert (comp_invoice.issue_date, comp_invoice.due_date) == (date(2026, 1, 31),) * 2
    assert (comp_invoice.net_pence, comp_invoice.vat_pence) == (7_000, 0)
    assert comp_invoice.charge_on_invoice_id == debt
    assert comp_invoice.department_id == world.commercial.id
    interest_invoice = db.session.get(Invoice, interest.charge_invoice_id)
    assert interest_invoice.description == (
        "Late Payment Act interest on INV00000001 from 2 January 2026 to 31 January 2026 at 12%"
    )
    entry = db.session.scalar(
        sa.select(LedgerEntry).where(LedgerEntry.invoice_id == interest_invoice.id)
    )
    assert (entry.amount_pence, entry.reason) == (4_932, interest_invoice.description)

    timeline = list(
        db.session.scalars(
            sa.select(ContactEvent.summary).where(ContactEvent.account_id == world.company.id)
        )
    )
    assert "Late Payment Act compensation of £70.00 added to INV00000001 (charge LPC00000001)" in (
        timeline
    )
    assert any(
        s.startswith("Late Payment Act interest of £49.32 added to INV00000001") for s in timeline
    )
    actions = set(db.session.scalars(sa.select(AuditLog.action)))
    assert {"late_payment.compensation", "late_payment.interest"} <= actions

    assert balances.account_balance(world.company.id) == 500_000 + 11_932
    assert ledger_discrepancies() == []


def test_running_again_on_the_same_day_posts_nothing_and_a_later_day_only_the_new_days(world, db):
    debt = world.invoice(500_000, date(2026, 1, 1))
    late_payment.charge_invoices(date(2026, 1, 31), [debt], SYSTEM)
    again = late_payment.charge_invoices(date(2026, 1, 31), [debt, debt], SYSTEM)
    assert (again.compensation_count, again.interest_count, again.total_pence) == (0, 0, 0)

    later = late_payment.charge_invoices(date(2026, 2, 10), [debt], SYSTEM)
    # 1 to 10 February only: 10 days at 12% on £5,000 = 16.438...
    assert (later.compensation_count, later.interest_count, later.total_pence) == (0, 1, 1_644)
    last = charges(db, debt)[-1]
    assert (last.interest_from, last.interest_to) == (date(2026, 2, 1), date(2026, 2, 10))
    assert len(charges(db)) == 3
    assert ledger_discrepancies() == []


def test_interest_across_the_new_year_is_one_charge_per_half_year_at_its_reference_rate(world, db):
    debt = world.invoice(1_000_000, date(2025, 12, 16))
    summary = late_payment.charge_invoices(date(2026, 1, 15), [debt], SYSTEM)
    _, december, january = charges(db, debt)
    # 17 to 31 December: 15 days at 4.25% + 8% on £10,000 = 50.342...
    assert (december.interest_from, december.interest_to) == (
        date(2025, 12, 17),
        date(2025, 12, 31),
    )
    assert (december.base_rate_basis_points, december.amount_pence) == (425, 5_034)
    assert december.dedupe_key == f"lpa-int-{debt}-20251231"
    # 1 to 15 January: 15 days at 4% + 8% = 49.315...
    assert (january.interest_from, january.interest_to) == (date(2026, 1, 1), date(2026, 1, 15))
    assert (january.base_rate_basis_points, january.amount_pence) == (400, 4_932)
    assert summary.interest_count == 2
    assert summary.by_invoice[debt] == 10_000 + 5_034 + 4_932  # £100 from £10,000


def test_interest_follows_part_payments_from_the_day_after_they_were_paid(world, db):
    debt = world.invoice(1_000_000, date(2026, 3, 1))
    ledger.record_payment(
        account_id=world.company.id,
        amount_pence=400_000,
        method=PaymentMethod.BANK_TRANSFER,
        actor=SYSTEM,
        effective_date=date(2026, 3, 10),
    )
    late_payment.charge_invoices(date(2026, 3, 20), [debt], SYSTEM)
    interest = charges(db, debt)[-1]
    # 2 to 10 March (9 days) on £10,000 and 11 to 20 March (10 days) on £6,000, at 12%:
    # (10,000 x 9 + 6,000 x 10) x 12% / 365 = 49.315...
    assert interest.amount_pence == 4_932
    assert ledger_discrepancies() == []


@pytest.mark.parametrize(
    ("total", "compensation"),
    [(99_999, 4_000), (100_000, 7_000), (999_999, 7_000), (1_000_000, 10_000)],
)
def test_compensation_bands_at_their_boundaries(world, db, total, compensation):
    debt = world.invoice(total, date(2026, 6, 1))
    late_payment.charge_invoices(date(2026, 6, 2), [debt], SYSTEM)
    assert charges(db, debt)[0].amount_pence == compensation


def test_consumers_non_commercial_debts_and_charges_themselves_are_never_charged(world, db):
    person = make_account(surname="Archer")
    personal = world.invoice(500_000, date(2026, 1, 1), account=person)
    care = world.invoice(500_000, date(2026, 1, 1), department=world.care)
    debt = world.invoice(500_000, date(2026, 1, 1))
    late_payment.charge_invoices(date(2026, 1, 31), [debt], SYSTEM)
    charge_invoice_ids = [c.charge_invoice_id for c in charges(db)]
    not_due = world.invoice(500_000, date(2026, 1, 31))

    summary = late_payment.charge_invoices(
        date(2026, 1, 31), [personal, care, not_due, *charge_invoice_ids], SYSTEM
    )
    assert summary.total_pence == 0
    assert summary.skipped == {
        personal: rules.NOT_AN_ORGANISATION,
        care: rules.NOT_COMMERCIAL,
        not_due: rules.NOT_OVERDUE,
        **{i: rules.IS_A_CHARGE for i in charge_invoice_ids},
    }
    assert len(charges(db)) == 2


def test_a_paid_debt_gets_nothing(world, db):
    debt = world.invoice(50_000, date(2026, 1, 1))
    ledger.record_payment(
        account_id=world.company.id, amount_pence=50_000, method=PaymentMethod.CASH, actor=SYSTEM
    )
    summary = late_payment.charge_invoices(date(2026, 1, 31), [debt], SYSTEM)
    assert summary.skipped == {debt: rules.NOTHING_OUTSTANDING}
    assert charges(db) == []


def _hold(db, world, starts, expires, *, invoice_id=None, lifted_at=None):
    db.session.add(
        AccountHold(
            account_id=world.company.id,
            invoice_id=invoice_id,
            kind=HoldKind.BREATHING_SPACE,
            reason="Debt Respite Scheme notice",
            starts_on=starts,
            expires_on=expires,
            breathing_space_type=BreathingSpaceType.STANDARD,
            placed_by=world.officer.id,
            lifted_at=lifted_at,
        )
    )
    db.session.commit()


def test_nothing_is_posted_while_a_breathing_space_hold_is_in_force(world, db):
    debt = world.invoice(500_000, date(2026, 1, 1))
    other = world.invoice(500_000, date(2026, 1, 1))
    _hold(db, world, date(2026, 1, 20), date(2026, 3, 20), invoice_id=debt)
    summary = late_payment.charge_invoices(date(2026, 1, 31), [debt, other], SYSTEM)
    assert summary.skipped == {debt: rules.IN_BREATHING_SPACE}
    assert set(summary.by_invoice) == {other}  # the hold names only the one debt


def test_nothing_is_posted_while_the_account_is_in_breathing_space(world, db):
    debt = world.invoice(500_000, date(2026, 1, 1))
    world.company.breathing_space_type = BreathingSpaceType.STANDARD
    world.company.breathing_space_start = date(2026, 1, 10)
    world.company.breathing_space_end = date(2026, 3, 10)
    db.session.commit()
    summary = late_payment.charge_invoices(date(2026, 1, 31), [debt], SYSTEM)
    assert summary.skipped == {debt: rules.IN_BREATHING_SPACE}
    assert charges(db) == []


def test_after_breathing_space_its_days_are_never_charged(world, db):
    debt = world.invoice(500_000, date(2026, 1, 1))
    # In Breathing Space 12 to 21 January (ten days), the hold ended by its date.
    _hold(db, world, date(2026, 1, 12), date(2026, 1, 21))
    late_payment.charge_invoices(date(2026, 1, 31), [debt], SYSTEM)
    interest = charges(db, debt)[-1]
    # 30 days less the 10 in the space: 20 days at 12% on £5,000 = 32.876...
    assert (interest.interest_from, interest.interest_to) == (date(2026, 1, 2), date(2026, 1, 31))
    assert interest.amount_pence == 3_288


def test_the_statement_names_what_each_charge_is_for(world, db):
    debt = world.invoice(500_000, date(2026, 1, 1))
    late_payment.charge_invoices(date(2026, 1, 31), [debt], SYSTEM)
    login = make_portal_login(world.company)
    lines = account_view.statement(login.id, world.company.reference).lines
    words = [line.description for line in lines]
    assert "Invoice LPC00000001: Late Payment Act fixed compensation on INV00000001" in words
    assert lines[-1].balance_pence == 511_932

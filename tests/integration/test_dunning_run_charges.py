"""A dunning run posts the Late Payment Act charges on the debts it moves (helper F1's
post_charges, in the chunk's transaction): an organisation's commercial debt gets its
fixed compensation, a person's debt never does, and a rerun posts nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.domain import late_payment as charge_rules
from shared.models import DebtorKind, Invoice, LatePaymentCharge, RecoveryStage
from shared.models.legal import ChargeKind
from shared.services.actors import SYSTEM
from shared.services.dunning import runs
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.dunning_world import (
    emailable,
    install_templates,
    make_ladder,
    overdue,
    stage_of,
)

pytestmark = frozen_clock


@pytest.fixture
def commercial(db):
    install_templates()
    return make_ladder("Commercial rents", commercial=True)


def charges_on(db, invoice_id: int) -> list[LatePaymentCharge]:
    return list(
        db.session.scalars(
            sa.select(LatePaymentCharge)
            .where(LatePaymentCharge.invoice_id == invoice_id)
            .order_by(LatePaymentCharge.id)
        )
    )


def test_a_companys_commercial_debt_moved_by_a_run_gets_its_compensation_and_a_persons_none(
    db, commercial
):
    company = emailable(
        surname="Bakery", kind=DebtorKind.ORGANISATION, organisation_name="Borchester Bakery Ltd"
    )
    person = emailable(surname="Grundy")
    company_debt = overdue(company, commercial, 20, pence=120_000)
    person_debt = overdue(person, commercial, 20, pence=120_000)

    result = runs.execute(TODAY, SYSTEM)

    assert stage_of(company_debt.id) == stage_of(person_debt.id) == RecoveryStage.REMINDER
    posted = charges_on(db, company_debt.id)
    compensation = [c for c in posted if c.kind == ChargeKind.COMPENSATION]
    assert [c.amount_pence for c in compensation] == [charge_rules.compensation_pence(120_000)]
    charge_invoice = db.session.get(Invoice, compensation[0].charge_invoice_id)
    assert charge_invoice.charge_on_invoice_id == company_debt.id
    assert charges_on(db, person_debt.id) == []
    assert result.outcome.charges == len(posted)
    assert result.outcome.charges_pence == sum(c.amount_pence for c in posted)
    assert result.outcome.moves == 2  # a charge invoice is never chased itself


def test_a_rerun_and_the_next_days_run_add_no_charges(db, commercial):
    company = emailable(
        surname="Dairy", kind=DebtorKind.ORGANISATION, organisation_name="Bridge Farm Dairy Ltd"
    )
    debt = overdue(company, commercial, 20, pence=50_000)
    runs.execute(TODAY, SYSTEM)
    first = [(c.kind, c.amount_pence, c.dedupe_key) for c in charges_on(db, debt.id)]
    assert first

    again = runs.execute(TODAY, SYSTEM)
    next_day = runs.execute(TODAY + timedelta(days=1), SYSTEM)

    assert again.already_run
    assert [(c.kind, c.amount_pence, c.dedupe_key) for c in charges_on(db, debt.id)] == first
    assert next_day.outcome.charges == 0


def test_a_companys_debt_in_a_non_commercial_department_is_moved_without_a_charge(db):
    install_templates()
    care = make_ladder("Adult social care")
    company = emailable(
        surname="Home", kind=DebtorKind.ORGANISATION, organisation_name="Ambridge Care Home Ltd"
    )
    debt = overdue(company, care, 20)

    result = runs.execute(TODAY, SYSTEM)

    assert stage_of(debt.id) == RecoveryStage.REMINDER
    assert charges_on(db, debt.id) == []
    assert (result.outcome.charges, result.outcome.charges_pence) == (0, 0)

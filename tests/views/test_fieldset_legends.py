"""Every radios and checkboxes group on the back office's case-work forms is named by
its question (a fieldset legend with text): a screen reader announces a group with
an empty legend as a group with no name. Templates that size the legend must not
lose its text (shared/widgets.py)."""

from __future__ import annotations

from datetime import date

import pytest

from shared.models import PaymentMethod, StaffRole
from shared.services import ledger
from shared.services.actors import SYSTEM
from tests.factories import make_account, make_department, make_staff
from tests.views.conftest import signed_in_session
from tests.views.pages import parse


@pytest.fixture
def case(client, db):
    signed_in_session(client, make_staff(StaffRole.OFFICER, refund_limit_pence=10_000))
    account = make_account()
    ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV-LEG1",
        issue_date=date(2026, 1, 1),
        due_date=date(2026, 1, 31),
        description="Trade waste",
        lines=[ledger.LineInput("Collections", 1, 12_000)],
        actor=SYSTEM,
    )
    ledger.record_payment(
        account_id=account.id,
        amount_pence=20_000,
        method=PaymentMethod.BANK_TRANSFER,
        actor=SYSTEM,
        external_reference="BGC LEG1",
    )
    # Raised after the payment, so it is still owed (for the referral form).
    ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number="INV-LEG2",
        issue_date=date(2026, 2, 1),
        due_date=date(2026, 2, 28),
        description="Trade waste",
        lines=[ledger.LineInput("Collections", 1, 30_000)],
        actor=SYSTEM,
    )
    return account


@pytest.mark.parametrize(
    "page",
    [
        "contacts/new",
        "holds/new",
        "payments/new",
        "refunds/new",
        "invoices/INV-LEG1/write-off",
        "referrals/new",
        "details/edit",
        "invoice-schedules/new",
    ],
)
def test_each_choice_group_on_a_case_work_form_has_its_question_as_legend(client, case, page):
    response = client.get(f"/backoffice/accounts/{case.reference}/{page}")

    assert response.status_code == 200
    fieldsets = parse(response).select("fieldset.govuk-fieldset")
    assert fieldsets, "the page has a choice group"
    for fieldset in fieldsets:
        legend = fieldset.select_one("legend")
        assert legend is not None and legend.get_text(strip=True), fieldset.get("aria-describedby")

"""What the debtor's account page says, read as the debtor reads it: each plan in its
own block headed by its state, a Direct Debit plan that is honest about the Direct
Debit, invoices in a plan that are not "overdue", only recovery steps that happened,
and a year of payments with the rest left to the full statement."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.models import (
    Arrangement,
    ArrangementDebt,
    ArrangementStatus,
    DunningMove,
    EnforcementReferral,
    EnforcementReferralInvoice,
    Frequency,
    Instalment,
    Mandate,
    MandateSource,
    MandateStatus,
    ModulusOutcome,
    PaymentRoute,
    RecoveryStage,
    ReferralDestination,
    StaffRole,
)
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.services.directdebit.bank_details import BankDetails, seal
from tests.factories import make_account, make_department, make_portal_login, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.pages import count_queries, parse, sign_in_portal, text

pytestmark = frozen_clock
LONG_AGO = TODAY - timedelta(days=90)


def raise_invoice(account, department, number, pence, *, due):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=min(due, TODAY) - timedelta(days=30),
        due_date=due,
        description=f"Charges on {number}",
        lines=[ledger.LineInput("Collections", 1, pence)],
        actor=SYSTEM,
    )


@pytest.fixture
def department(app):
    return make_department(name="Trade waste")


@pytest.fixture
def debtor(app, department):
    """Two overdue invoices and one not yet due."""
    account = make_account(surname="Smith")
    first = raise_invoice(account, department, "INV-P1", 10_000, due=LONG_AGO)
    second = raise_invoice(account, department, "INV-P2", 6_000, due=LONG_AGO)
    later = raise_invoice(account, department, "INV-P3", 3_000, due=TODAY + timedelta(days=20))
    return account, first, second, later


@pytest.fixture
def signed_in(client, debtor):
    sign_in_portal(client, make_portal_login(debtor[0]))
    return client


def add_plan(db, account, invoices, status, route=PaymentRoute.CARD, total=10_000):
    plan = Arrangement(
        account_id=account.id,
        status=status,
        frequency=Frequency.MONTHLY,
        total_pence=total,
        start_date=TODAY - timedelta(days=10),
        payment_route=route,
        instalments=[
            Instalment(sequence=1, due_date=TODAY - timedelta(days=10), amount_pence=total // 2),
            Instalment(sequence=2, due_date=TODAY + timedelta(days=20), amount_pence=total // 2),
        ],
    )
    db.session.add(plan)
    db.session.flush()
    for invoice in invoices:
        db.session.add(
            ArrangementDebt(arrangement_id=plan.id, invoice_id=invoice.id, amount_pence=5_000)
        )
    db.session.commit()
    return plan


def add_mandate(db, account, status=MandateStatus.ACTIVE):
    db.session.add(
        Mandate(
            account_id=account.id,
            reference="DDREF000777",
            account_holder_name="A SMITH",
            bank_details_encrypted=seal(BankDetails("200000", "55779911")),
            account_ending="11",
            modulus_outcome=ModulusOutcome.VALID,
            source=MandateSource.PORTAL,
            status=status,
        )
    )
    db.session.commit()


def account_page(client, account):
    response = client.get(f"/account/{account.reference}")
    assert response.status_code == 200
    return parse(response)


def summary(block) -> dict[str, str]:
    return {
        text(row.select_one(".govuk-summary-list__key")): text(
            row.select_one(".govuk-summary-list__value")
        )
        for row in block.select(".govuk-summary-list__row")
    }


def open_rows(page) -> dict[str, list[str]]:
    table = page.select("main table")[0]
    assert text(table.caption) == "Invoices to pay"
    return {text(row.th): [text(c) for c in row.select("td")] for row in table.select("tbody tr")}


# --- each plan in its own block -------------------------------------------------------


def test_a_proposed_plan_and_an_active_plan_each_have_a_block_headed_by_their_state(
    db, signed_in, debtor
):
    account, first, second, _ = debtor
    active = add_plan(db, account, [first], ArrangementStatus.ACTIVE, total=10_000)
    proposed = add_plan(db, account, [second], ArrangementStatus.PROPOSED, total=6_000)

    page = account_page(signed_in, account)

    headings = [text(h) for h in page.select("#payment-plans ~ section h3")]
    assert headings == ["Active payment plan", "Payment plan waiting for a decision"]
    active_block = page.select_one(f"#plan-{active.id}")
    proposed_block = page.select_one(f"#plan-{proposed.id}")
    assert active_block["aria-labelledby"] == f"plan-{active.id}-heading"
    assert summary(active_block)["Invoice"] == "INV-P1"
    assert summary(active_block)["How often"] == "Every month"
    assert summary(proposed_block) == {"Invoice": "INV-P2", "To pay by": "Card"}
    assert "£60.00 in instalments" in text(proposed_block)
    assert "£60.00" not in text(active_block)


def test_an_offer_waiting_for_the_debtor_is_headed_as_one_with_its_link(db, signed_in, debtor):
    account, first, second, _ = debtor
    offer = add_plan(db, account, [first, second], ArrangementStatus.COUNTER_OFFERED)

    block = account_page(signed_in, account).select_one(f"#plan-{offer.id}")

    assert text(block.h3) == "Payment plan offer waiting for your answer"
    assert summary(block)["Invoices"] == "INV-P1, INV-P2"
    assert block.select_one("a")["href"] == (
        f"/account/{account.reference}/plan/{offer.id}/counter-offer"
    )


# --- Direct Debit: say what is true ---------------------------------------------------


def test_an_active_direct_debit_plan_without_a_mandate_says_it_waits_for_one_with_a_link(
    db, signed_in, debtor
):
    account, first, _, _ = debtor
    plan = add_plan(db, account, [first], ArrangementStatus.ACTIVE, PaymentRoute.DIRECT_DEBIT)

    page = account_page(signed_in, account)

    block = page.select_one(f"#plan-{plan.id}")
    assert summary(block)["Paid by"] == "Direct Debit, waiting for you to set it up"
    assert "waiting for a Direct Debit to be set up" in text(block)
    set_up = f"/account/{account.reference}/direct-debit/set-up?plan={plan.id}"
    assert block.select_one("a")["href"] == set_up
    # The Direct Debit section agrees with the plan, and never says "no Direct Debit" alone.
    assert "not set up a Direct Debit yet" in text(page.select_one("#plan-needs-direct-debit"))
    assert page.select_one("#set-up-direct-debit")["href"] == set_up
    assert "You have no Direct Debit set up." not in text(page.main)


@pytest.mark.parametrize(
    ("status", "paid_by"),
    [
        (MandateStatus.ACTIVE, "Direct Debit from the bank account ending 11"),
        (MandateStatus.PENDING_SUBMISSION, "Direct Debit (being set up)"),
    ],
)
def test_a_direct_debit_plan_with_a_mandate_names_it(db, signed_in, debtor, status, paid_by):
    account, first, _, _ = debtor
    plan = add_plan(db, account, [first], ArrangementStatus.ACTIVE, PaymentRoute.DIRECT_DEBIT)
    add_mandate(db, account, status)

    page = account_page(signed_in, account)

    assert summary(page.select_one(f"#plan-{plan.id}"))["Paid by"] == paid_by
    assert page.select_one("#plan-needs-direct-debit") is None
    assert "Ending 11" in text(page.select_one("#mandate"))


# --- invoices in a plan, and only recovery steps that happened --------------------------


def test_invoices_in_an_active_plan_say_so_instead_of_overdue(db, signed_in, debtor):
    account, first, second, _ = debtor
    add_plan(db, account, [first], ArrangementStatus.ACTIVE)
    add_plan(db, account, [second], ArrangementStatus.PROPOSED)

    page = account_page(signed_in, account)

    rows = open_rows(page)
    assert rows["INV-P1"][3] == "In a payment plan"
    assert rows["INV-P2"][3] == "Overdue"  # only proposed: not agreed yet
    assert rows["INV-P3"][3] == "Due"
    assert [text(t) for t in page.select("main table .govuk-tag--red")] == ["Overdue"]
    invoice = parse(signed_in.get(f"/account/{account.reference}/invoices/INV-P1"))
    assert "Status In a payment plan" in text(invoice.select_one("main .govuk-summary-list"))


def test_a_recovery_stage_with_no_record_of_it_happening_is_not_shown(db, signed_in, debtor):
    account, first, second, _ = debtor
    # Both invoices say "pre-action"; only the first was moved there by a run.
    for invoice in (first, second):
        invoice.recovery_stage = RecoveryStage.PRE_ACTION
    db.session.add(
        DunningMove(
            invoice_id=first.id,
            account_id=account.id,
            from_stage=RecoveryStage.FINAL_DEMAND,
            to_stage=RecoveryStage.PRE_ACTION,
            outstanding_pence=10_000,
        )
    )
    db.session.commit()

    page = account_page(signed_in, account)

    rows = open_rows(page)
    assert rows["INV-P1"][4] == "Letter before legal action sent"
    assert rows["INV-P2"][4] == "None"
    invoice = parse(signed_in.get(f"/account/{account.reference}/invoices/INV-P2"))
    assert "Recovery action None" in text(invoice.select_one("main .govuk-summary-list"))


def test_a_referral_on_record_is_shown_and_one_without_is_not(db, signed_in, debtor):
    account, first, second, _ = debtor
    officer = make_staff(StaffRole.OFFICER)
    for invoice in (first, second):
        invoice.recovery_stage = RecoveryStage.REFERRED_ENFORCEMENT
    db.session.add(
        EnforcementReferral(
            account_id=account.id,
            destination=ReferralDestination.ENFORCEMENT_AGENT,
            amount_pence=10_000,
            referred_on=TODAY,
            note="Referred",
            referred_by=officer.id,
            pack_row={},
            invoices=[
                EnforcementReferralInvoice(
                    invoice_id=first.id, amount_pence=10_000, stage_before=RecoveryStage.NONE
                )
            ],
        )
    )
    db.session.commit()

    rows = open_rows(account_page(signed_in, account))

    assert rows["INV-P1"][4] == "Passed to enforcement agents"
    assert rows["INV-P2"][4] == "None"


# --- a year of payments; the rest on the statement -------------------------------------


def pay(account, pence, on, reference):
    ledger.record_payment(
        account_id=account.id,
        amount_pence=pence,
        method="bank_transfer",
        external_reference=reference,
        effective_date=on,
        actor=SYSTEM,
    )


def test_payments_show_the_last_twelve_months_and_count_the_older_ones_with_the_statement(
    db, signed_in, debtor
):
    account = debtor[0]
    pay(account, 100, TODAY - timedelta(days=10), "RECENT-1")
    pay(account, 200, TODAY.replace(year=TODAY.year - 1) + timedelta(days=1), "YEAR-EDGE")
    pay(account, 300, TODAY.replace(year=TODAY.year - 1), "JUST-OLDER")
    pay(account, 400, TODAY - timedelta(days=800), "MUCH-OLDER")

    page = account_page(signed_in, account)

    table = page.select_one("#payments")
    assert text(table.caption) == "Payments in the last 12 months"
    assert [text(r.select("td")[3]) for r in table.select("tbody tr")] == [
        "RECENT-1",
        "YEAR-EDGE",
    ]
    older = page.select_one("#older-payments")
    assert text(older).startswith("2 older payments are on your full statement (PDF)")
    assert older.select_one("a")["href"] == f"/account/{account.reference}/statement.pdf"


def test_with_only_old_payments_the_page_says_none_this_year_and_points_to_the_statement(
    db, signed_in, debtor
):
    account = debtor[0]
    pay(account, 300, TODAY - timedelta(days=400), "OLD-1")

    page = account_page(signed_in, account)

    assert page.select_one("#payments") is None
    assert "You have not made any payments in the last 12 months." in text(page.main)
    assert text(page.select_one("#older-payments")).startswith("1 older payment is on")


def test_only_the_newest_ten_paid_invoices_are_listed_and_the_rest_counted(
    db, signed_in, debtor, department
):
    account = debtor[0]
    for n in range(12):
        invoice = raise_invoice(
            account, department, f"INV-Q{n:02d}", 1_000, due=LONG_AGO - timedelta(days=n)
        )
        ledger.record_payment(
            account_id=account.id,
            amount_pence=1_000,
            method="cash",
            allocations=[(invoice.id, 1_000)],
            actor=SYSTEM,
        )

    page = account_page(signed_in, account)

    paid = page.select_one("#paid-invoices")
    assert text(paid.summary) == "Paid invoices (12)"
    listed = [text(r.th) for r in paid.select("tbody tr")]
    assert listed == [f"INV-Q{n:02d}" for n in range(10)]  # newest due first
    assert text(paid.select_one("#older-paid-invoices")).startswith(
        "2 older paid invoices are on your full statement"
    )


def test_the_page_costs_the_same_queries_however_many_plans_and_old_payments(
    db, client, signed_in, debtor
):
    account, first, second, _ = debtor
    path = f"/account/{account.reference}"
    before = count_queries(db, lambda: client.get(path))
    add_plan(db, account, [first], ArrangementStatus.ACTIVE, PaymentRoute.DIRECT_DEBIT)
    add_plan(db, account, [second], ArrangementStatus.PROPOSED)
    for n in range(5):
        pay(account, 100, TODAY - timedelta(days=400 + n), f"OLD-{n}")

    assert count_queries(db, lambda: client.get(path)) == before

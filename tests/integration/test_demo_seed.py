"""`flask demo seed` and `flask demo logins`: realistic demo data that reconciles."""

from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.app import create_app
from shared.demo import DEMO_PASSWORD, catalogue, demo_bills, seed_demo
from shared.demo.plan_values import ENDED_BEFORE_LADDER
from shared.demo.plans import (
    ACTIVE_CARD,
    ACTIVE_DIRECT_DEBIT,
    ACTIVE_IN_ARREARS,
    BROKEN,
    COMPLETED,
    COUNTER_OFFERED,
    PROPOSED,
    PROPOSED_FOR_TEAM_LEADER,
    REJECTED,
    quotas,
)
from shared.domain import schedules
from shared.domain.vat import VatRate, vat_on
from shared.extensions import db as _db
from shared.models import (
    Allocation,
    Arrangement,
    AuditLog,
    ContactEvent,
    DebtorAccount,
    DebtorKind,
    Invoice,
    LedgerEntry,
    OutboxMessage,
    StaffRole,
    StaffUser,
    postcode_key,
)
from shared.reports.reconciliation import ledger_discrepancies
from shared.services import account_view, plan_monitor
from tests.conftest import _is_postgres, _truncate_all, make_config
from tests.factories import make_portal_login
from tests.views.conftest import signed_in_session
from tests.views.pages import parse

TODAY = date(2026, 6, 30)


def scalar(db, sql: str, **params):
    return db.session.execute(sa.text(sql), params).scalar()


def rows(db, sql: str, **params):
    return db.session.execute(sa.text(sql), params).all()


# Each invoice with what has been allocated to it and what it still owes.
INVOICE_STATE = """
SELECT i.id, i.number, i.account_id, i.issue_date, i.due_date, i.total_pence, i.recovery_stage,
       COALESCE(SUM(a.amount_pence), 0) AS allocated,
       i.total_pence - COALESCE(SUM(a.amount_pence), 0) AS outstanding
FROM invoices i LEFT JOIN allocations a ON a.invoice_id = i.id
GROUP BY i.id, i.number, i.account_id, i.issue_date, i.due_date, i.total_pence, i.recovery_stage
"""


def as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def test_seeding_200_debtors_creates_them_with_departments_staff_and_about_five_invoices_each(
    app, db
):
    counts = seed_demo(200, today=TODAY)

    assert scalar(db, "SELECT COUNT(*) FROM debtor_accounts") == 200 == counts["debtor_accounts"]
    for table in (
        "addresses",
        "invoices",
        "invoice_lines",
        "ledger_entries",
        "allocations",
        "contact_events",
    ):
        assert scalar(db, f"SELECT COUNT(*) FROM {table}") == counts[table] > 0
    # The bills the council raised; the ladder's runs add Late Payment Act charges
    # (an invoice each, due at once) on the commercial debts they move.
    bills = scalar(db, "SELECT COUNT(*) FROM invoices WHERE charge_on_invoice_id IS NULL")
    charges = counts["invoices"] - bills
    assert 800 <= bills <= 1_200
    assert 2 * bills <= counts["ledger_entries"] - charges <= 3 * bills

    departments = rows(
        db,
        "SELECT code, name, cost_centre, contact_email, contact_phone, "
        "is_commercial FROM service_departments",
    )
    assert len(departments) >= 6
    assert all(d.cost_centre and d.contact_email and d.contact_phone for d in departments)
    assert {d.code for d in departments if d.is_commercial} == {"TWASTE", "RENTS"}
    roles = {r.role for r in rows(db, "SELECT role FROM staff_users")}
    assert roles == {role.value for role in StaffRole}
    assert scalar(db, "SELECT COUNT(*) FROM staff_users WHERE role = 'team_leader'") == 2

    assert scalar(db, "SELECT COUNT(DISTINCT reference) FROM debtor_accounts") == 200
    assert all(
        re.fullmatch(r"A\d{8}", r.reference)
        for r in rows(db, "SELECT reference FROM debtor_accounts")
    )
    organisations = scalar(
        db,
        "SELECT COUNT(*) FROM debtor_accounts WHERE kind = 'organisation' "
        "AND organisation_name IS NOT NULL AND company_number IS NOT NULL",
    )
    assert 10 <= organisations <= 55

    addresses = rows(db, "SELECT account_id, postcode, postcode_key, is_primary FROM addresses")
    assert len({a.account_id for a in addresses}) == 200
    for address in addresses:
        assert address.is_primary
        assert re.fullmatch(r"[A-Z]{1,2}\d{1,2} \d[A-Z]{2}", address.postcode)
        assert address.postcode_key == postcode_key(address.postcode)


def test_every_invoice_has_one_invoice_entry_and_lines_that_add_up_to_its_totals(app, db):
    seed_demo(200, today=TODAY)

    mismatched = rows(
        db,
        """
        SELECT i.number FROM invoices i
        LEFT JOIN (SELECT invoice_id, SUM(net_pence) AS net, SUM(vat_pence) AS vat, COUNT(*) AS n
                   FROM invoice_lines GROUP BY invoice_id) l ON l.invoice_id = i.id
        WHERE l.n IS NULL OR l.n > 3 OR i.net_pence <> l.net OR i.vat_pence <> l.vat
           OR i.total_pence <> l.net + l.vat""",
    )
    assert mismatched == []
    entries = rows(
        db,
        """
        SELECT i.number FROM invoices i
        LEFT JOIN ledger_entries e ON e.invoice_id = i.id AND e.kind = 'invoice'
        GROUP BY i.id, i.number, i.total_pence
        HAVING COUNT(e.id) <> 1 OR SUM(e.amount_pence) <> i.total_pence""",
    )
    assert entries == []

    for line in rows(
        db, "SELECT net_pence, vat_rate, vat_pence, quantity, unit_price_pence FROM invoice_lines"
    ):
        assert line.net_pence == line.quantity * line.unit_price_pence
        assert line.vat_pence == vat_on(line.net_pence, VatRate(line.vat_rate))
    standard_rated = {
        r.code
        for r in rows(
            db,
            """
        SELECT DISTINCT d.code FROM invoice_lines l JOIN invoices i ON i.id = l.invoice_id
        JOIN service_departments d ON d.id = i.department_id WHERE l.vat_rate = 'standard'""",
        )
    }
    assert {"TWASTE", "RENTS"} <= standard_rated
    assert not standard_rated & {"ASC", "HBOP", "LICENSING"}

    for invoice in rows(
        db, "SELECT number, issue_date, due_date, charge_on_invoice_id FROM invoices"
    ):
        issued = as_date(invoice.issue_date)
        assert TODAY - timedelta(days=730) < issued <= TODAY
        if invoice.charge_on_invoice_id is not None:
            # A Late Payment Act charge the ladder's run added: due when raised.
            assert as_date(invoice.due_date) == issued
            assert re.fullmatch(r"LPC\d{8}", invoice.number)
            continue
        assert as_date(invoice.due_date) == issued + timedelta(days=30)
        assert re.fullmatch(r"INV\d{8}", invoice.number)


def test_the_seeded_ledger_reconciles_with_nothing_over_allocated(app, db):
    seed_demo(400, today=TODAY)

    assert ledger_discrepancies() == []
    over_allocated_invoices = rows(
        db, f"SELECT number FROM ({INVOICE_STATE}) s WHERE allocated > total_pence OR allocated < 0"
    )
    assert over_allocated_invoices == []
    credits = rows(
        db,
        """
        SELECT e.id, e.kind, -e.amount_pence AS value, COALESCE(SUM(a.amount_pence), 0) AS allocated
        FROM ledger_entries e LEFT JOIN allocations a ON a.credit_entry_id = e.id
        WHERE e.amount_pence < 0 GROUP BY e.id, e.kind, e.amount_pence""",
    )
    assert all(c.allocated <= c.value for c in credits)
    assert any(c.kind == "payment" and c.allocated < c.value for c in credits), "no overpayment"
    assert any(c.kind == "credit_note" for c in credits)
    # Only a reversal (a Direct Debit returned) takes an allocation back, by a negative one.
    assert (
        scalar(
            db,
            "SELECT COUNT(*) FROM allocations "
            "WHERE amount_pence <= 0 AND reversal_entry_id IS NULL",
        )
        == 0
    )

    early_or_future = rows(
        db,
        """
        SELECT e.id FROM allocations a JOIN ledger_entries e ON e.id = a.credit_entry_id
        JOIN invoices i ON i.id = a.invoice_id
        WHERE e.effective_date < i.issue_date OR e.effective_date > :today""",
        today=TODAY,
    )
    assert early_or_future == []
    unreferenced = scalar(
        db,
        "SELECT COUNT(*) FROM ledger_entries WHERE kind = 'payment' "
        "AND method IN ('card', 'direct_debit') "
        "AND external_reference NOT LIKE 'demo-pay-%' "
        # Direct Debit collections the demo's replay posted (shared/demo/direct_debit.py).
        "AND external_reference NOT LIKE 'DD-COLLECTION-%'",
    )
    assert unreferenced == 0


def test_the_invoices_mix_paid_part_paid_overdue_and_current_with_stages_the_ladder_allows(app, db):
    seed_demo(400, today=TODAY)
    # The stages come from the ladder's runs (shared/demo/recovery.py), not from the
    # invoice's age alone: a debt reaches a stage no sooner than the ladder's days after
    # its due date (reminder 14, final demand 28, letter before claim 42), and never
    # while a live plan covers it. (Before, the generator set a stage from the age.)
    stage_at_plan_start = dict(
        rows(
            db,
            "SELECT d.invoice_id, d.stage_at_start FROM arrangement_debts d "
            "JOIN arrangements a ON a.id = d.arrangement_id "
            "WHERE a.status IN ('proposed', 'counter_offered', 'active', 'completed')",
        )
    )
    assert stage_at_plan_start
    earliest = {"none": 0, "reminder": 14, "final_demand": 28, "pre_action": 42}

    mix = {"paid": 0, "part_paid": 0, "overdue": 0, "current": 0}
    for invoice in rows(db, INVOICE_STATE):
        if invoice.number.startswith("LPC"):
            continue  # a Late Payment Act charge a run added, not one of the bills
        overdue_days = (TODAY - as_date(invoice.due_date)).days
        if invoice.id in stage_at_plan_start:
            assert invoice.recovery_stage == stage_at_plan_start[invoice.id]
        if invoice.recovery_stage != "none":
            assert overdue_days >= earliest[invoice.recovery_stage], invoice
        if invoice.outstanding == 0:
            mix["paid"] += 1
            continue
        mix["part_paid" if invoice.allocated else "overdue" if overdue_days > 0 else "current"] += 1

    total = sum(mix.values())
    assert all(count > 0 for count in mix.values()), mix
    assert 0.45 <= mix["paid"] / total <= 0.65, mix
    assert 0.08 <= mix["part_paid"] / total <= 0.22, mix


def test_400_debtors_include_vulnerable_people_breathing_space_and_the_deceased(app, db):
    seed_demo(400, today=TODAY)
    accounts = db.session.scalars(sa.select(DebtorAccount)).all()

    vulnerable = [a for a in accounts if a.vulnerable]
    assert vulnerable
    assert all(a.vulnerability_reason and a.vulnerability_review_date for a in vulnerable)
    breathing = [a for a in accounts if a.breathing_space_type is not None]
    assert breathing
    for account in breathing:
        assert account.kind == DebtorKind.PERSON and not account.deceased
        assert account.breathing_space_start <= TODAY and account.breathing_space_reference
        assert account.in_breathing_space(TODAY)
        if account.breathing_space_type == "standard":
            assert account.breathing_space_end == account.breathing_space_start + timedelta(60)
    deceased = [a for a in accounts if a.deceased]
    assert deceased and all(a.date_of_death and a.date_of_death < TODAY for a in deceased)

    for account in accounts:
        assert account.consent_email <= (account.email is not None)
        assert account.consent_sms <= (account.mobile_phone is not None)
        if account.preferred_channel == "email":
            assert account.consent_email
        if account.preferred_channel == "sms":
            assert account.consent_sms
        assert len(account.addresses) == 1 and account.primary_address.is_primary


def test_seeding_again_appends_a_second_batch_without_duplicating_references_or_reference_data(
    app, db
):
    seed_demo(100, today=TODAY)
    first_batch = {
        r.reference: r.surname for r in rows(db, "SELECT reference, surname FROM debtor_accounts")
    }
    counts = seed_demo(100, today=TODAY)

    assert counts["service_departments"] == counts["staff_users"] == 0
    assert scalar(db, "SELECT COUNT(*) FROM service_departments") == 6
    assert scalar(db, "SELECT COUNT(*) FROM staff_users") == len(catalogue.STAFF) == 7
    assert scalar(db, "SELECT COUNT(*) FROM debtor_accounts") == 200
    assert scalar(db, "SELECT COUNT(DISTINCT reference) FROM debtor_accounts") == 200
    assert scalar(db, "SELECT COUNT(DISTINCT number) FROM invoices") == scalar(
        db, "SELECT COUNT(*) FROM invoices"
    )
    second_batch = rows(db, "SELECT reference, surname FROM debtor_accounts ORDER BY id")[100:]
    assert not {r.reference for r in second_batch} & set(first_batch)
    assert ledger_discrepancies() == []

    # The id sequences moved past the seeded rows, so the application can still insert.
    account = DebtorAccount(reference="T00000001", kind=DebtorKind.PERSON, surname="After")
    db.session.add(account)
    db.session.commit()
    assert account.id == 201


def test_if_empty_seeds_an_empty_database_and_leaves_a_seeded_one_alone(app, db):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["demo", "seed", "--debtors", "30", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Seeded 30 demo debtors" in result.output
    assert re.search(r"invoices\s+\d", result.output)
    assert scalar(db, "SELECT COUNT(*) FROM debtor_accounts") == 30

    result = runner.invoke(args=["demo", "seed", "--debtors", "30", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "already has debtor accounts" in result.output
    assert scalar(db, "SELECT COUNT(*) FROM debtor_accounts") == 30


@contextmanager
def fresh_database(database_template: str, tmp_path: Path):
    """An app on a newly migrated, empty database (a second one, for comparisons)."""
    if _is_postgres():
        _db.session.remove()
        _db.engine.dispose()
        _truncate_all(database_template)
        url = database_template
    else:
        target = tmp_path / "fresh.db"
        shutil.copyfile(database_template, target)
        url = f"sqlite:///{target}"
    other = create_app(make_config(url))
    with other.app_context():
        yield other
        _db.session.remove()
        _db.engine.dispose()


def first_debtor(db) -> tuple:
    return tuple(
        rows(
            db,
            "SELECT reference, title, forename, surname, organisation_name "
            "FROM debtor_accounts ORDER BY id LIMIT 1",
        )[0]
    )


def test_the_same_seed_gives_the_same_first_debtor_on_a_fresh_database(
    app, db, database_template, tmp_path
):
    app.test_cli_runner().invoke(args=["demo", "seed", "--debtors", "20", "--seed", "7"])
    first = first_debtor(db)

    with fresh_database(database_template, tmp_path) as other:
        result = other.test_cli_runner().invoke(
            args=["demo", "seed", "--debtors", "20", "--seed", "7"]
        )
        assert result.exit_code == 0, result.output
        assert first_debtor(db) == first
    assert first[0] == "A10000001"


def test_demo_logins_lists_a_login_for_every_role_with_the_demo_password(app, db):
    runner = app.test_cli_runner()
    assert "No demo logins" in runner.invoke(args=["demo", "logins"]).output

    seed_demo(0)
    result = runner.invoke(args=["demo", "logins"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for role in StaffRole:
        assert any(role.value in line and DEMO_PASSWORD in line for line in lines), role
    assert "team.leader2@demo.example" in result.output
    assert lines[2].startswith("officer@demo.example")


def test_demo_staff_sign_in_with_the_demo_password_and_are_not_asked_to_change_it(app, db):
    # The demo password is published (demo logins), not a temporary one from an
    # administrator: `make run` must not stop every demo login at "choose a password".
    seed_demo(0)

    flagged = scalar(db, "SELECT COUNT(*) FROM staff_users WHERE must_change_password")
    assert (scalar(db, "SELECT COUNT(*) FROM staff_users"), flagged) == (len(catalogue.STAFF), 0)


def test_a_failed_chunk_stops_the_seed_and_leaves_only_whole_debtors_behind(app, db, monkeypatch):
    from shared.demo import generate

    original = generate.Generator.chunk
    calls = {"n": 0}

    def second_chunk_breaks_a_check_constraint(self, n):
        rows = original(self, n)
        calls["n"] += 1
        if calls["n"] == 2:
            invoice = list(rows["invoices"][0])
            invoice[9] += 1  # total no longer net + VAT
            rows["invoices"][0] = tuple(invoice)
        return rows

    monkeypatch.setattr(generate.Generator, "chunk", second_chunk_breaks_a_check_constraint)
    with pytest.raises(Exception, match=r"(?i)check"):
        seed_demo(60, today=TODAY, chunk_size=20, writers=1)

    assert scalar(db, "SELECT COUNT(*) FROM debtor_accounts") == 20
    assert ledger_discrepancies() == []
    account = DebtorAccount(reference="T00000001", kind=DebtorKind.PERSON, surname="After")
    db.session.add(account)
    db.session.commit()
    assert account.id == 21


def test_demo_logins_also_names_bills_that_can_really_be_paid_at_pay(app, db, client):
    from shared.demo import demo_bills
    from shared.models import postcode_key
    from shared.services import bill_lookup

    seed_demo(200)
    result = app.test_cli_runner().invoke(args=["demo", "logins"])
    bills = demo_bills()
    assert len(bills) == 3
    assert "Bills to try paying at /pay" in result.output
    for bill in bills:
        assert bill.invoice_number in result.output
        # Each one is found by the quick-pay lookup and still owes what is printed.
        found = bill_lookup.find_bill(bill.invoice_number, bill.postcode)
        assert found is not None
        [item] = bill_lookup.bill_items(found.account_id, found.invoice_ids)
        assert item.outstanding_pence == bill.outstanding_pence >= 2_000
        assert postcode_key(bill.postcode)


def test_demo_logins_names_an_account_whose_login_can_really_be_created(app, db):
    from shared.demo import demo_bills
    from shared.services import portal_accounts

    seed_demo(200)
    result = app.test_cli_runner().invoke(args=["demo", "logins"])
    [bill] = [b for b in demo_bills() if b.email_on_file][:1]

    assert f"account reference {bill.account_reference} and postcode {bill.postcode}" in (
        result.output
    )
    # The create-account lookup finds it, and a code can go to the email on file.
    candidate = portal_accounts.start_link(bill.account_reference, bill.postcode)
    assert candidate is not None
    assert [p.channel.value for p in candidate.contact_points][:1] == ["email"]


# --- instalment plans ---------------------------------------------------------------------------

DEMO_PLAN_DEBTORS = 300  # what `make run` seeds


def demo_plans(db) -> list:
    return db.session.scalars(sa.select(Arrangement).order_by(Arrangement.id)).all()


def by_status(plans) -> dict[str, list]:
    found: dict[str, list] = {}
    for plan in plans:
        found.setdefault(plan.status.value, []).append(plan)
    return found


def allocated_to(db, invoice_ids, *, since=None) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(Allocation.amount_pence), 0)).where(
        Allocation.invoice_id.in_(list(invoice_ids))
    )
    if since is not None:
        query = query.where(Allocation.created_at >= since)
    return int(db.session.scalar(query))


def plan_fingerprint(db) -> list[tuple]:
    return [
        (
            plan.account_id,
            plan.status.value,
            plan.frequency.value,
            plan.payment_route.value,
            plan.total_pence,
            plan.start_date,
            plan.created_at,
            tuple(sorted(d.invoice_id for d in plan.debts)),
            tuple(
                (i.sequence, i.due_date, i.amount_pence, i.paid_pence, i.paid_on, i.missed_on)
                for i in plan.instalments
            ),
        )
        for plan in demo_plans(db)
    ]


def monitor_readings(db) -> list[tuple]:
    return [
        (
            plan.id,
            plan.status.value,
            plan.ended_at,
            tuple((i.paid_pence, i.paid_on, i.missed_on, i.reminded_at) for i in plan.instalments),
        )
        for plan in demo_plans(db)
    ]


def test_a_fixed_small_share_of_debtors_get_plans_and_tiny_demos_get_none():
    small, large = quotas(DEMO_PLAN_DEBTORS), quotas(200_000)
    assert 15 <= sum(small.values()) <= 21  # about 6% of 300
    for kind, n in small.items():
        assert n >= 1, kind
        assert abs(large[kind] / 200_000 - n / DEMO_PLAN_DEBTORS) < 0.002, kind
    assert sum(quotas(30).values()) == 0


def test_300_debtors_include_plans_in_every_state_for_people_who_still_owe(app, db):
    counts = seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)

    wanted = quotas(DEMO_PLAN_DEBTORS)
    plans = demo_plans(db)
    status = by_status(plans)
    assert {s: len(p) for s, p in status.items()} == {
        "active": wanted[ACTIVE_CARD] + wanted[ACTIVE_DIRECT_DEBIT] + wanted[ACTIVE_IN_ARREARS],
        "proposed": wanted[PROPOSED] + wanted[PROPOSED_FOR_TEAM_LEADER],
        "counter_offered": wanted[COUNTER_OFFERED],
        "broken": wanted[BROKEN],
        "completed": wanted[COMPLETED],
        "cancelled": wanted[REJECTED],
    }
    assert counts["arrangements"] == len(plans)
    for table in ("arrangements", "arrangement_debts", "instalments", "audit_log"):
        assert scalar(db, f"SELECT COUNT(*) FROM {table}") == counts[table] > 0

    # People the council may ask for payment, one plan each.
    accounts = {a.id: a for a in db.session.scalars(sa.select(DebtorAccount))}
    assert len({p.account_id for p in plans}) == len(plans)
    for plan in plans:
        account = accounts[plan.account_id]
        assert account.kind == DebtorKind.PERSON
        assert not account.deceased and account.breathing_space_type is None

    active = status["active"]
    assert {p.payment_route.value for p in active} == {"card", "direct_debit"}
    for plan in active:
        paid = [i for i in plan.instalments if i.paid_pence == i.amount_pence]
        upcoming = [i for i in plan.instalments if i.due_date > TODAY]
        assert paid and all(i.paid_on and i.paid_on <= TODAY for i in paid)
        assert upcoming and upcoming[0].due_date <= TODAY + timedelta(days=14)
    in_arrears = [p for p in active if any(i.missed_on for i in p.instalments)]
    assert len(in_arrears) == wanted[ACTIVE_IN_ARREARS]
    assert all(i.reminded_at for p in in_arrears for i in p.instalments if i.missed_on)

    waiting = status["proposed"]
    leader = [p for p in waiting if p.needs_team_leader]
    assert len(leader) == wanted[PROPOSED_FOR_TEAM_LEADER]
    assert all(p.total_pence > 300_000 and p.ie_statement_id for p in leader)
    officer = [p for p in waiting if not p.needs_team_leader]
    assert any(p.ie_statement_id for p in officer) and any(not p.ie_statement_id for p in officer)
    assert all(p.policy_outcome == "refer" or p.needs_team_leader for p in waiting)

    for plan in status["counter_offered"]:
        assert plan.original_terms and plan.counter_offered_by_staff_id and plan.decision_reason
        assert plan.original_terms != {
            "frequency": plan.frequency.value,
            "start": plan.start_date.isoformat(),
            "instalment_pence": plan.instalment_pence,
            "count": plan.instalment_count,
        }
    for plan in status["broken"]:
        assert plan.broken_reviewed_at is None and plan.end_reason == "2 payments missed"
        # Broken before the demo ladder's first run (it was within the last fortnight
        # before the ladder's runs made the stages), so no run moved a debt in a plan.
        ended = plan.ended_at.date()
        assert TODAY - timedelta(days=ENDED_BEFORE_LADDER + 13) <= ended
        assert ended <= TODAY - timedelta(days=ENDED_BEFORE_LADDER)
    [completed] = status["completed"]
    assert completed.end_reason == "Paid in full"
    assert all(i.paid_pence == i.amount_pence for i in completed.instalments)
    [rejected] = status["cancelled"]
    assert rejected.end_reason.startswith("Rejected: ") and rejected.decided_by_staff_id


def test_every_seeded_plans_schedule_is_what_its_terms_give_and_covers_its_own_accounts_debts(
    app, db
):
    seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)

    live_invoices: list[int] = []
    for plan in demo_plans(db):
        instalments = plan.instalments
        expected = schedules.build_schedule(
            plan.total_pence,
            plan.frequency.value,
            plan.start_date,
            instalment_pence=plan.instalment_pence,
            count=plan.instalment_count,
        )
        assert [(i.sequence, i.due_date, i.amount_pence) for i in instalments] == [
            (s.sequence, s.due_date, s.amount_pence) for s in expected
        ]
        assert sum(i.amount_pence for i in instalments) == plan.total_pence
        assert sum(d.amount_pence for d in plan.debts) == plan.total_pence
        # The first payment fell within 30 days of the proposal (or of the counter-offer).
        asked_on = (plan.counter_offered_at or plan.created_at).date()
        assert asked_on <= plan.start_date <= asked_on + timedelta(days=30)
        for debt in plan.debts:
            invoice = db.session.get(Invoice, debt.invoice_id)
            assert invoice.account_id == plan.account_id
            assert invoice.issue_date < plan.created_at.date()
            # A debt is covered for what it owed when the plan was proposed.
            owed_then = (
                invoice.total_pence
                - allocated_to(db, [invoice.id])
                + allocated_to(db, [invoice.id], since=plan.created_at)
            )
            assert debt.amount_pence == owed_then
            if plan.status.value in ("broken", "cancelled"):
                # The ladder's runs, all after the plan ended, may have moved it since.
                assert debt.stage_at_start == "none"
            else:
                assert debt.stage_at_start == invoice.recovery_stage.value
        assert plan.policy_rules and all(
            {"department", "rule", "passed", "explanation"} <= set(rule)
            for rule in plan.policy_rules
        )
        if plan.total_pence > 50_000:  # the default policy asks for I&E above £500
            assert plan.ie_statement_id is not None
        if plan.status.value in ("proposed", "counter_offered", "active"):
            live_invoices += [d.invoice_id for d in plan.debts]
    assert len(live_invoices) == len(set(live_invoices))  # no debt in two live plans


def test_instalments_paid_are_card_or_direct_debit_payments_to_the_plans_debts_and_reconcile(
    app, db
):
    seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)

    assert ledger_discrepancies() == []
    paying = [p for p in demo_plans(db) if p.activated_at is not None]
    assert {p.status.value for p in paying} == {"active", "broken", "completed"}
    for plan in paying:
        invoice_ids = [d.invoice_id for d in plan.debts]
        paid = sum(i.paid_pence for i in plan.instalments)
        # What the monitor counts as the plan's money is exactly what the readings show.
        assert allocated_to(db, invoice_ids, since=plan.activated_at) == paid > 0
        payments = db.session.scalars(
            sa.select(LedgerEntry)
            .join(Allocation, Allocation.credit_entry_id == LedgerEntry.id)
            .where(Allocation.invoice_id.in_(invoice_ids))
            .where(Allocation.created_at >= plan.activated_at)
            .distinct()
        ).all()
        assert sum(-p.amount_pence for p in payments) == paid
        for payment in payments:
            assert payment.account_id == plan.account_id
            assert payment.method.value == plan.payment_route.value
            assert payment.external_reference == f"demo-pay-{payment.id}"
            assert plan.activated_at.date() < payment.effective_date < TODAY
        for instalment in plan.instalments:
            assert (instalment.paid_on is not None) == (
                instalment.paid_pence == instalment.amount_pence
            )
            if instalment.paid_on:
                assert instalment.paid_on <= instalment.due_date + timedelta(days=8)
    [completed] = by_status(paying)["completed"]
    assert allocated_to(db, [d.invoice_id for d in completed.debts]) == sum(
        i.total_pence
        for i in db.session.scalars(
            sa.select(Invoice).where(Invoice.id.in_([d.invoice_id for d in completed.debts]))
        )
    )


def test_the_plan_monitor_run_on_the_day_of_seeding_finds_nothing_to_do(app, db):
    seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)
    before = monitor_readings(db)
    active = len(by_status(demo_plans(db))["active"])
    messages = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))

    counts = plan_monitor.run(TODAY)

    assert counts.checked == active > 0
    assert {k: n for k, n in counts.as_dict().items() if n and k != "checked"} == {}
    db.session.expire_all()
    assert monitor_readings(db) == before
    # Neither seeding nor the run sends anyone anything (nothing floods the local stand-ins):
    # the Direct Debit history's emails went when it happened, its letters await printing.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == messages
    waiting = sa.select(sa.func.count()).where(
        OutboxMessage.status == "pending", OutboxMessage.channel.in_(["email", "sms"])
    )
    assert db.session.scalar(waiting) == 0


def test_the_seeded_plans_are_live_for_the_monitor_when_later_payments_do_not_come(app, db):
    seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)

    counts = plan_monitor.run(TODAY + timedelta(days=40))

    assert counts.reminders + counts.broken > 0


def test_each_plans_timeline_and_audit_trail_tell_how_it_got_to_its_state(app, db):
    seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)

    implied = {
        "proposed": {"plan.proposed"},
        "counter_offered": {"plan.proposed", "plan.counter_offered"},
        "active": {"plan.proposed", "plan.activated"},
        "broken": {"plan.proposed", "plan.activated", "plan.broken"},
        "completed": {"plan.proposed", "plan.activated", "plan.completed"},
        "cancelled": {"plan.proposed", "plan.rejected"},
    }
    for plan in demo_plans(db):
        audit = db.session.scalars(
            sa.select(AuditLog)
            .where(AuditLog.object_type == "arrangement", AuditLog.object_id == str(plan.id))
            .order_by(AuditLog.occurred_at, AuditLog.id)
        ).all()
        assert {a.action for a in audit} == implied[plan.status.value]
        assert audit[0].action == "plan.proposed" and audit[0].occurred_at == plan.created_at
        assert all(a.account_id == plan.account_id for a in audit)
        timeline = db.session.scalars(
            sa.select(ContactEvent.summary).where(ContactEvent.account_id == plan.account_id)
        ).all()
        total = f"Payment plan of £{plan.total_pence / 100:,.2f}"
        assert any(s.startswith(total) for s in timeline), timeline
        if plan.status.value == "broken":
            assert any(f"Payment plan {plan.id} of" in s and "broken" in s for s in timeline)
        if plan.ie_statement_id:
            assert any(s.startswith("Income and expenditure statement sent") for s in timeline)
        moments = [plan.created_at, plan.activated_at, plan.ended_at]
        moments = [m for m in moments if m is not None]
        assert moments == sorted(moments) and moments[-1].date() <= TODAY
    latest = db.session.scalar(sa.select(sa.func.max(ContactEvent.occurred_at)))
    assert latest.date() <= TODAY


def test_the_officers_queues_and_each_demo_plans_page_show_the_seeded_plans(app, db, client):
    seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)
    status = by_status(demo_plans(db))
    leader = db.session.scalars(
        sa.select(StaffUser).where(StaffUser.email == "team.leader@demo.example")
    ).one()
    signed_in_session(client, leader)

    queue = parse(client.get("/backoffice/plans"))
    listed = {int(row["data-plan-id"]) for row in queue.select("#plan-queue tbody tr")}
    assert listed == {p.id for p in status["proposed"]}
    broken = client.get("/backoffice/plans/broken").get_data(as_text=True)
    for plan in status["broken"]:
        assert f'id="broken-{plan.id}"' in broken
    for plan in demo_plans(db):
        page = client.get(f"/backoffice/plans/{plan.id}")
        assert page.status_code == 200, plan.status


def test_demo_logins_suggest_a_login_for_an_account_whose_page_shows_an_active_plan(app, db):
    seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)
    result = app.test_cli_runner().invoke(args=["demo", "logins"])
    [bill] = [b for b in demo_bills() if b.email_on_file][:1]
    assert f"account reference {bill.account_reference} and postcode" in result.output

    account = db.session.scalars(
        sa.select(DebtorAccount).where(DebtorAccount.reference == bill.account_reference)
    ).one()
    user = make_portal_login(account, email="demo.visitor@example.com")
    page = account_view.account_page(user.id, account.reference, TODAY)

    assert page.plan is not None and page.plan.next_due_date > TODAY
    # The bill to try paying is outside the plan, so paying it leaves the plan as it is.
    [open_bill] = [i for i in page.open_invoices if i.number == bill.invoice_number]
    assert open_bill.id not in page.covered_invoice_ids
    in_live_plans = {
        r.number
        for r in rows(
            db,
            "SELECT i.number FROM invoices i JOIN arrangement_debts d ON d.invoice_id = i.id "
            "JOIN arrangements a ON a.id = d.arrangement_id "
            "WHERE a.status IN ('proposed', 'counter_offered', 'active')",
        )
    }
    assert in_live_plans and not {b.invoice_number for b in demo_bills()} & in_live_plans


def test_the_same_seed_gives_the_same_plans_on_a_fresh_database(
    app, db, database_template, tmp_path
):
    seed_demo(DEMO_PLAN_DEBTORS, seed=7, today=TODAY)
    first = plan_fingerprint(db)

    with fresh_database(database_template, tmp_path):
        seed_demo(DEMO_PLAN_DEBTORS, seed=7, today=TODAY)
        assert plan_fingerprint(_db) == first
    assert first


def test_seeding_again_gives_the_new_debtors_their_own_plans_and_leaves_the_first_ones_alone(
    app, db
):
    seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)
    first_batch = plan_fingerprint(db)
    first_ids = [p.id for p in demo_plans(db)]

    counts = seed_demo(DEMO_PLAN_DEBTORS, today=TODAY)

    db.session.expire_all()
    plans = demo_plans(db)
    assert plan_fingerprint(db)[: len(first_batch)] == first_batch
    assert [p.id for p in plans[: len(first_ids)]] == first_ids
    second = plans[len(first_ids) :]
    assert counts["arrangements"] == len(second) == len(first_ids)
    assert all(p.account_id > DEMO_PLAN_DEBTORS for p in second)
    assert ledger_discrepancies() == []
    assert plan_monitor.run(TODAY).paid_updates == 0

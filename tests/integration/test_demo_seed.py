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
from shared.demo import DEMO_PASSWORD, seed_demo
from shared.domain.vat import VatRate, vat_on
from shared.extensions import db as _db
from shared.models import DebtorAccount, DebtorKind, StaffRole, postcode_key
from shared.reports.reconciliation import ledger_discrepancies
from tests.conftest import _is_postgres, _truncate_all, make_config

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
    assert 800 <= counts["invoices"] <= 1_200
    assert 2 * counts["invoices"] <= counts["ledger_entries"] <= 3 * counts["invoices"]

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

    for invoice in rows(db, "SELECT number, issue_date, due_date FROM invoices"):
        issued = as_date(invoice.issue_date)
        assert TODAY - timedelta(days=730) < issued <= TODAY
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
    assert scalar(db, "SELECT COUNT(*) FROM allocations WHERE amount_pence <= 0") == 0

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
        "AND external_reference NOT LIKE 'demo-pay-%'",
    )
    assert unreferenced == 0


def test_the_invoices_mix_paid_part_paid_overdue_and_current_with_stages_that_match_their_age(
    app, db
):
    seed_demo(400, today=TODAY)
    paused = {
        r.id
        for r in rows(
            db, "SELECT id FROM debtor_accounts WHERE breathing_space_type IS NOT NULL OR deceased"
        )
    }

    mix = {"paid": 0, "part_paid": 0, "overdue": 0, "current": 0}
    for invoice in rows(db, INVOICE_STATE):
        overdue_days = (TODAY - as_date(invoice.due_date)).days
        if invoice.outstanding == 0:
            mix["paid"] += 1
            assert invoice.recovery_stage == "none"
            continue
        mix["part_paid" if invoice.allocated else "overdue" if overdue_days > 0 else "current"] += 1
        if invoice.account_id in paused:
            continue  # recovery froze when Breathing Space began or the debtor died
        if overdue_days < 14:
            assert invoice.recovery_stage == "none"
        elif overdue_days < 28:
            assert invoice.recovery_stage == "reminder"
        elif overdue_days < 42:
            assert invoice.recovery_stage == "final_demand"
        else:
            assert invoice.recovery_stage in ("pre_action", "referred_legal")

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
    assert scalar(db, "SELECT COUNT(*) FROM staff_users") == 5
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

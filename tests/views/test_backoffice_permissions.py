"""Every back-office route, for everyone who might ask: signed out, a debtor signed in
to the portal, and each staff role.

The routes come from the app's URL map, so a new back-office route is in the
matrix the moment it exists, and fails it until EXPECTED says who may use it.
The table is written out here rather than computed from
shared.domain.permissions, so it checks the decorators and that table both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import session, url_for

from shared.app import create_app
from shared.domain.invoice_checks import DraftStatus
from shared.domain.referrals import PACK_COLUMNS
from shared.domain.vat import VatRate
from shared.models import (
    AccountHold,
    ApprovalKind,
    ApprovalRequest,
    Arrangement,
    ArrangementStatus,
    EnforcementReferral,
    Frequency,
    HoldKind,
    IncomeCode,
    Instalment,
    InvoiceDraft,
    InvoiceDraftLine,
    InvoiceFrequency,
    InvoiceSchedule,
    JournalVia,
    LimitChangeStatus,
    PaymentRoute,
    PortalUser,
    ReferralDestination,
    StaffLimitChange,
    StaffRole,
)
from shared.models.base import utcnow
from shared.services import journal, ledger
from shared.services.actors import SYSTEM
from tests.bank_statement_world import a_line_waiting_for_an_officer
from tests.conftest import make_config
from tests.factories import make_account, make_department, make_staff, password_hash
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token

pytestmark = frozen_clock

SIGN_IN = "/backoffice/sign-in"

OFFICER, TEAM_LEADER, ADMIN, AUDITOR = "officer", "team_leader", "admin", "auditor"
EVERY_ROLE = frozenset({OFFICER, TEAM_LEADER, ADMIN, AUDITOR})
ADMINS = frozenset({ADMIN})

SIGNED_OUT, PORTAL_DEBTOR = "signed out", "portal debtor"
WHO = [SIGNED_OUT, PORTAL_DEBTOR, OFFICER, TEAM_LEADER, ADMIN, AUDITOR]

ANYONE = "anyone"
# The sign-in steps after the password: nobody in this matrix has just given one.
MID_SIGN_IN = "mid sign-in"


@dataclass(frozen=True)
class Expect:
    method: str
    allowed: frozenset[str] | str  # roles, ANYONE or MID_SIGN_IN
    # What an allowed request gets: a status, or the path it redirects to
    # ("{staff_id}" is the member of staff the route acts on).
    success: int | str = 200


EXPECTED: dict[str, Expect] = {
    "backoffice.sign_in": Expect("GET", ANYONE),
    "backoffice.set_up_authenticator": Expect("GET", MID_SIGN_IN),
    "backoffice.enter_code": Expect("GET", MID_SIGN_IN),
    "backoffice.choose_new_password": Expect("GET", MID_SIGN_IN),
    "backoffice.home": Expect("GET", EVERY_ROLE),
    "backoffice.sign_out": Expect("POST", EVERY_ROLE, SIGN_IN),
    "backoffice.sign_out_everywhere": Expect("POST", EVERY_ROLE, SIGN_IN),
    "backoffice.staff_list": Expect("GET", ADMINS),
    "backoffice.add_staff": Expect("GET", ADMINS),
    "backoffice.staff_detail": Expect("GET", ADMINS),
    "backoffice.change_role": Expect("GET", ADMINS),
    "backoffice.change_team": Expect("GET", ADMINS),
    "backoffice.change_limits": Expect("GET", ADMINS),
    "backoffice.deactivate_staff": Expect("POST", ADMINS, "/backoffice/staff/{staff_id}"),
    "backoffice.reactivate_staff": Expect("POST", ADMINS, "/backoffice/staff/{staff_id}"),
    "backoffice.reset_two_factor": Expect("POST", ADMINS, "/backoffice/staff/{staff_id}"),
    "backoffice.reset_password": Expect("POST", ADMINS, "/backoffice/staff/{staff_id}"),
    "backoffice.approve_limit_change": Expect("POST", ADMINS, "/backoffice/staff/{staff_id}"),
    "backoffice.reject_limit_change": Expect("POST", ADMINS, "/backoffice/staff/{staff_id}"),
    "backoffice.audit_log": Expect("GET", frozenset({ADMIN, AUDITOR})),
    "backoffice.record_contact": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.diary": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.account_holds": Expect("GET", EVERY_ROLE),
    "backoffice.record_manual_payment": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.raise_credit_note": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.unverified_payments": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    # Posted without a payment, so the queue comes back with the error.
    "backoffice.verify_payment": Expect(
        "POST", frozenset({OFFICER, TEAM_LEADER}), "/backoffice/payments/unverified"
    ),
    "backoffice.place_hold": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.account_referrals": Expect("GET", EVERY_ROLE),
    "backoffice.refer_to_enforcement": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.referral_pack": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    # Before court and enforcement: everyone who sees cases sees the Legal page; officers
    # and team leaders record (the matrix's letter does not exist: past the check, 404).
    "backoffice.legal_steps": Expect("GET", EVERY_ROLE),
    "backoffice.record_judgment": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.record_acknowledgement": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.record_claim_reply": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    "backoffice.resolve_claim_reply": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    # Officer-sent correspondence and the message log: everyone who sees cases reads the
    # logs; officers and team leaders send and retry. Writing without a template chosen,
    # or sending an empty form, goes back to choosing; the matrix has no message (404).
    "backoffice.choose_correspondence": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.write_correspondence": Expect(
        "GET",
        frozenset({OFFICER, TEAM_LEADER}),
        "/backoffice/accounts/{reference}/correspondence/new",
    ),
    "backoffice.send_correspondence": Expect(
        "POST",
        frozenset({OFFICER, TEAM_LEADER}),
        "/backoffice/accounts/{reference}/correspondence/new",
    ),
    "backoffice.correspondence_sent": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    "backoffice.account_messages": Expect("GET", EVERY_ROLE),
    "backoffice.message_log_page": Expect("GET", EVERY_ROLE),
    "backoffice.retry_message": Expect("POST", frozenset({OFFICER, TEAM_LEADER}), 404),
    "backoffice.lift_hold": Expect(
        "POST", frozenset({OFFICER, TEAM_LEADER}), "/backoffice/accounts/{reference}/holds"
    ),
    "backoffice.record_crisis_end": Expect(
        "POST", frozenset({OFFICER, TEAM_LEADER}), "/backoffice/accounts/{reference}/holds"
    ),
    "backoffice.request_write_off": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.request_refund": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.my_requests": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.withdraw_request": Expect(
        "POST", frozenset({OFFICER, TEAM_LEADER}), "/backoffice/approvals/mine"
    ),
    "backoffice.approval_queue": Expect("GET", frozenset({TEAM_LEADER})),
    # Posted without a decision, so the queue comes back with the error.
    "backoffice.decide_request": Expect("POST", frozenset({TEAM_LEADER})),
    "backoffice.search": Expect("GET", EVERY_ROLE),
    "backoffice.case_view": Expect("GET", EVERY_ROLE),
    # The case page's other sections (its messages are backoffice.account_messages).
    "backoffice.case_invoices": Expect("GET", EVERY_ROLE),
    "backoffice.case_ledger": Expect("GET", EVERY_ROLE),
    "backoffice.case_plans": Expect("GET", EVERY_ROLE),
    "backoffice.case_timeline": Expect("GET", EVERY_ROLE),
    "backoffice.unallocated_queue": Expect("GET", EVERY_ROLE),
    "backoffice.refused_card_events": Expect("GET", EVERY_ROLE),
    "backoffice.allocate_credit": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.update_contact_details": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.create_account": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.edit_account_details": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.plan_queue": Expect("GET", EVERY_ROLE),
    "backoffice.broken_plans": Expect("GET", EVERY_ROLE),
    "backoffice.plan_detail": Expect("GET", EVERY_ROLE),
    # The matrix's plan is proposed and small, so an officer's approval goes through.
    "backoffice.approve_plan": Expect(
        "POST", frozenset({OFFICER, TEAM_LEADER}), "/backoffice/plans"
    ),
    # Posted without a reason or terms, so the plan page comes back with the error.
    "backoffice.reject_plan": Expect("POST", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.counter_offer_plan": Expect("POST", frozenset({OFFICER, TEAM_LEADER})),
    # The plan is not broken: refused with a message on the broken-plans queue.
    "backoffice.review_broken_plan": Expect(
        "POST", frozenset({OFFICER, TEAM_LEADER}), "/backoffice/plans/broken"
    ),
    "backoffice.bank_statements": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.invoice_imports": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.invoice_import": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.bank_statement_import": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.bank_statement_queue": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.resolve_bank_line": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.journals": Expect("GET", frozenset({TEAM_LEADER})),
    "backoffice.download_journal": Expect("GET", frozenset({TEAM_LEADER})),
    "backoffice.invoice_schedules": Expect("GET", EVERY_ROLE),
    "backoffice.create_invoice_schedule": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.cancel_invoice_schedule": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    # Invoices raised in the back office (the matrix's draft waits to be checked).
    "backoffice.find_account_to_invoice": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.raise_invoice": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.my_invoice_drafts": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.invoice_draft": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.edit_invoice_draft": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.preview_invoice_draft": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    # Posted without an action: back to the draft (the world's only draft, id 1) saying so.
    "backoffice.invoice_draft_action": Expect(
        "POST", frozenset({OFFICER, TEAM_LEADER}), "/backoffice/invoices/drafts/1"
    ),
    "backoffice.invoice_checking_queue": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.check_invoice": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.plan_policies": Expect("GET", ADMINS),
    "backoffice.edit_plan_policy": Expect("GET", ADMINS),
    # Finance settings: income codes, payment terms, VAT rates.
    "backoffice.finance_settings": Expect("GET", ADMINS),
    "backoffice.department_income_codes": Expect("GET", ADMINS),
    "backoffice.edit_income_code": Expect("GET", ADMINS),
    # Posted without an action: back to the income code's page saying so.
    "backoffice.set_income_code_status": Expect("POST", ADMINS, 302),
    "backoffice.edit_payment_terms": Expect("GET", ADMINS),
    "backoffice.vat_rate_history": Expect("GET", ADMINS),
    # The recovery ladder (anyone who sees cases may look; administrators change it)
    # and the message templates (the matrix has none: past the check, not found).
    "backoffice.dunning_ladder": Expect("GET", EVERY_ROLE),
    "backoffice.edit_dunning_policy": Expect("GET", ADMINS),
    "backoffice.message_templates": Expect("GET", ADMINS),
    "backoffice.new_message_template": Expect("GET", ADMINS),
    "backoffice.edit_message_template": Expect("GET", ADMINS, 404),
    # Posted with nothing: the templates page says the form had expired or what it added.
    "backoffice.install_message_template_defaults": Expect(
        "POST", ADMINS, "/backoffice/admin/message-templates"
    ),
    # The Late Payment Act base-rate table: read by all who see cases, kept by admins.
    "backoffice.base_rates": Expect("GET", EVERY_ROLE),
    # Posted empty: the page again with the field errors.
    "backoffice.add_base_rate": Expect("POST", ADMINS),
    # Posted without a rate: back to the table saying so.
    "backoffice.remove_base_rate": Expect("POST", ADMINS, "/backoffice/legal/base-rates"),
    # The matrix's account has no credit notes: past the permission check, not found.
    "backoffice.credit_note_pdf": Expect("GET", EVERY_ROLE, 404),
    # Direct Debit instructions taken by an officer (the account has no mandate, so
    # changing or cancelling one is past the permission check, then not found).
    "backoffice.take_direct_debit_by_phone": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.record_paper_direct_debit": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.change_direct_debit": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    "backoffice.cancel_direct_debit": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    # Reports from Bacs and the returns queue (no report or advice exists: past the
    # permission check, then not found).
    "backoffice.bacs_reports": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.bacs_returns_queue": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.bacs_report": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    "backoffice.resolve_bacs_item": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    # The day's Bacs collection file (no file exists: past the permission check, then
    # not found).
    # Dunning runs: team leaders preview and start them. The matrix has no run (past the
    # check, not found); "Run now" posted empty goes back to the page saying so.
    "backoffice.dunning_runs": Expect("GET", frozenset({TEAM_LEADER})),
    "backoffice.dunning_run": Expect("GET", frozenset({TEAM_LEADER}), 404),
    "backoffice.start_dunning_run": Expect(
        "POST", frozenset({TEAM_LEADER}), "/backoffice/dunning-runs"
    ),
    "backoffice.bacs_files": Expect("GET", frozenset({TEAM_LEADER})),
    "backoffice.bacs_file": Expect("GET", frozenset({TEAM_LEADER}), 404),
    "backoffice.download_bacs_file": Expect("GET", frozenset({TEAM_LEADER}), 404),
    "backoffice.withdraw_bacs_file": Expect("GET", frozenset({TEAM_LEADER}), 404),
    "backoffice.release_bacs_file": Expect("POST", frozenset({TEAM_LEADER}), 404),
    # The daily print batch of letters (no batch exists: past the permission check, then
    # not found); a letter's PDF for the case timeline (no such letter).
    "backoffice.print_batches_page": Expect("GET", frozenset({OFFICER, TEAM_LEADER})),
    "backoffice.print_batch": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    "backoffice.download_print_batch": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    "backoffice.withdraw_print_batch": Expect("GET", frozenset({OFFICER, TEAM_LEADER}), 404),
    "backoffice.release_print_batch": Expect("POST", frozenset({OFFICER, TEAM_LEADER}), 404),
    "backoffice.letter_pdf": Expect("GET", EVERY_ROLE, 404),
    # Management reports: the index lists what the person may open (officers: their own
    # activity); the matrix opens and exports the aged-debt report.
    "backoffice.reports_index": Expect("GET", EVERY_ROLE),
    "backoffice.report_page": Expect("GET", frozenset({TEAM_LEADER, ADMIN, AUDITOR})),
    "backoffice.report_export": Expect("GET", frozenset({TEAM_LEADER, ADMIN, AUDITOR})),
    # The monthly report packs sent to departments (the matrix's pack does not exist:
    # past the check, 404).
    "backoffice.report_packs": Expect("GET", frozenset({TEAM_LEADER, ADMIN, AUDITOR})),
    "backoffice.download_report_pack": Expect("GET", frozenset({TEAM_LEADER, ADMIN, AUDITOR}), 404),
    "backoffice.dashboard": Expect("GET", frozenset({TEAM_LEADER, ADMIN, AUDITOR})),
    # Each department's collection-rate target (this year's and next): administrators.
    "backoffice.collection_targets": Expect("GET", ADMINS),
    "backoffice.edit_collection_target": Expect("GET", ADMINS),
}


def _backoffice_rules():
    app = create_app(make_config("sqlite://"))
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("backoffice.")),
        key=lambda rule: rule.endpoint,
    )


RULES = {rule.endpoint: rule for rule in _backoffice_rules()}


def test_every_back_office_route_is_in_the_expected_table_and_nothing_else_is():
    assert set(RULES) - set(EXPECTED) == set(), "add the new route to EXPECTED"
    assert set(EXPECTED) - set(RULES) == set(), "remove routes that no longer exist"


def test_each_expected_method_is_one_the_route_answers():
    for endpoint, expect in EXPECTED.items():
        methods = RULES[endpoint].methods - {"HEAD", "OPTIONS"}
        assert expect.method in methods, endpoint
        # POST is only checked for routes that have no GET.
        assert expect.method == "GET" or "GET" not in methods, endpoint


def outcome(expect: Expect, who: str) -> int | str:
    if expect.allowed == ANYONE:
        return expect.success
    if expect.allowed == MID_SIGN_IN or who in (SIGNED_OUT, PORTAL_DEBTOR):
        return SIGN_IN
    return expect.success if who in expect.allowed else 403


def _become(client, who: str, db) -> None:
    if who == SIGNED_OUT:
        return
    if who == PORTAL_DEBTOR:
        debtor = PortalUser(email="debtor@example.com", password_hash=password_hash("a password!"))
        db.session.add(debtor)
        db.session.commit()
        with client.session_transaction() as portal:
            portal["portal_user_id"] = debtor.id
            portal["last_seen"] = int(time.time())
        return
    signed_in_session(client, make_staff(StaffRole(who)))


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_who_can_reach_each_back_office_route(app, client, db, endpoint, who):
    expect = EXPECTED.get(endpoint)
    assert expect is not None, f"{endpoint} is not in EXPECTED: say who may use it"
    target = make_staff(StaffRole.OFFICER, full_name="Target Person")
    _become(client, who, db)
    # "{reference}" routes act on a debtor account that exists.
    account = make_account()
    hold = AccountHold(
        account_id=account.id,
        kind=HoldKind.QUERY,
        reason="Matrix",
        starts_on=TODAY,
        expires_on=TODAY,
        placed_by=target.id,
    )
    db.session.add(hold)
    db.session.commit()
    invoice = ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department().id,
        number=f"M{account.id:08d}",
        issue_date=TODAY,
        due_date=TODAY,
        description="Matrix",
        lines=[ledger.LineInput("Matrix", 1, 1_000)],
        actor=SYSTEM,
    )
    # "{approval_id}" routes act on someone else's pending write-off request.
    approval = ApprovalRequest(
        account_id=account.id,
        kind=ApprovalKind.WRITE_OFF,
        amount_pence=1_000,
        reason_code="other",
        reason="Matrix",
        payload={"invoice_id": invoice.id, "invoice_number": invoice.number},
        requested_by_staff_id=target.id,
    )
    db.session.add(approval)
    # "{referral_id}" routes act on a referral of the account (its pack).
    referral = EnforcementReferral(
        account_id=account.id,
        destination=ReferralDestination.LEGAL,
        amount_pence=1_000,
        referred_on=TODAY,
        note="Matrix",
        referred_by=target.id,
        pack_row=dict.fromkeys(PACK_COLUMNS, "") | {"account_reference": account.reference},
    )
    db.session.add(referral)
    # "{arrangement_id}" routes act on a payment plan awaiting a decision.
    arrangement = Arrangement(
        account_id=account.id,
        status=ArrangementStatus.PROPOSED,
        frequency=Frequency.MONTHLY,
        total_pence=1_000,
        start_date=TODAY,
        payment_route=PaymentRoute.CARD,
        instalment_count=1,
        instalments=[Instalment(sequence=1, due_date=TODAY, amount_pence=1_000)],
    )
    db.session.add(arrangement)
    # "{change_id}" routes act on a limit change to the target's limits, waiting for
    # a second administrator.
    limit_change = StaffLimitChange(
        staff_user_id=target.id,
        refund_limit_pence=1_000_000,
        write_off_limit_pence=0,
        status=LimitChangeStatus.PENDING,
        requested_by_id=target.id,
    )
    db.session.add(limit_change)
    db.session.commit()
    # "{schedule_id}" routes act on a periodic invoice schedule of the account.
    schedule = InvoiceSchedule(
        account_id=account.id,
        department_id=invoice.department_id,
        description="Matrix",
        frequency=InvoiceFrequency.MONTHLY,
        start_date=TODAY,
        next_period_date=TODAY,
        created_by_staff_id=target.id,
    )
    db.session.add(schedule)
    db.session.commit()
    # "{draft_id}" routes act on an invoice the target raised, waiting to be checked.
    income_code = IncomeCode(
        department_id=invoice.department_id,
        code="M1",
        description="Matrix",
        cost_centre="C1",
        ledger_code="L1",
    )
    db.session.add(income_code)
    db.session.flush()
    draft = InvoiceDraft(
        account_id=account.id,
        department_id=invoice.department_id,
        income_code_id=income_code.id,
        description="Matrix",
        status=DraftStatus.AWAITING_CHECK,
        submitted_at=utcnow(),
        raised_by_staff_id=target.id,
        lines=[
            InvoiceDraftLine(
                line_no=1,
                description="Matrix",
                quantity=1,
                unit_price_pence=1_000,
                vat_rate=VatRate.OUTSIDE_SCOPE,
            )
        ],
    )
    db.session.add(draft)
    db.session.commit()
    # "{import_id}" and "{line_id}" routes show a bank statement and a line waiting.
    import_id, line_id = a_line_waiting_for_an_officer()
    # "{journal_id}" routes download a day's journal to the general ledger.
    journal_id = journal.export_journal(
        TODAY - timedelta(days=1), SYSTEM, via=JournalVia.SCHEDULE
    ).journal.journal_id
    values = {
        "income_code_id": income_code.id,
        "credit_note_number": "CN99999999",
        "draft_id": draft.id,
        "schedule_id": schedule.id,
        "journal_id": journal_id,
        "import_id": import_id,
        # "{invoice_import_id}": an invoice file from the finance system, queued.
        "invoice_import_id": _queued_invoice_import(),
        "line_id": line_id,
        "change_id": limit_change.id,
        "staff_id": target.id,
        "approval_id": approval.id,
        "reference": account.reference,
        "hold_id": hold.id,
        "number": invoice.number,
        "referral_id": referral.id,
        "letter_id": 999999,  # no such Letter of Claim
        "arrangement_id": arrangement.id,
        "department_id": invoice.department_id,
        "message_id": 999999,  # no such outbox message
        "mandate_id": 1,  # no such mandate on the account
        "report_id": 999999,  # no such Bacs report
        "item_id": 999999,  # no such Bacs report item
        "file_id": 999999,  # no such Bacs collection file
        "batch_id": 999999,  # no such print batch
        "which": "pdf",  # a print batch's merged PDF (or its manifest)
        "template_id": 999999,  # no such message template
        "run_id": 999999,  # no such dunning run
        "key": "aged-debt",  # a management report
        "fmt": "csv",  # its export
        "pack_id": 999999,  # no such monthly report pack
        "year": 2026,  # this financial year (TODAY is June 2026): a collection target's
    }
    rule = RULES[endpoint]
    missing = rule.arguments - set(values)
    assert not missing, f"the matrix cannot fill in {missing} for {endpoint}"
    with app.test_request_context():
        path = url_for(endpoint, **{name: values[name] for name in rule.arguments})

    with client:
        if expect.method == "GET":
            response = client.get(path)
        else:
            # A valid CSRF token for this session, so the answer is about access.
            token = csrf_token(client, SIGN_IN)
            response = client.post(path, data={"csrf_token": token})

        wanted = outcome(expect, who)
        if isinstance(wanted, int):
            assert response.status_code == wanted, response.headers.get("Location")
        else:
            assert response.status_code == 302
            assert response.headers["Location"] == wanted.format(
                staff_id=target.id, reference=account.reference
            )
        if who == PORTAL_DEBTOR:
            # Turned away from the back office, but still signed in to the portal.
            assert session["portal_user_id"] is not None
            assert "staff_id" not in session
    if wanted == 403:
        assert "You do not have permission to view this page" in response.get_data(as_text=True)


def test_a_view_that_declares_no_access_is_refused_to_everyone(database_url):
    app = create_app(make_config(database_url))
    app.add_url_rule(
        "/backoffice/forgot-the-decorator",
        endpoint="backoffice.forgot_the_decorator",
        view_func=lambda: "case details",
    )

    response = app.test_client().get("/backoffice/forgot-the-decorator")

    assert response.status_code == 403
    assert b"case details" not in response.data


def _queued_invoice_import() -> int:
    from shared.services.invoice_import import importer

    return importer.submit_file(b"customer_id\n", file_name="matrix.csv", actor=SYSTEM).import_id

"""No input gets a server error: every form of the portal and the back office, and
every page's query string, filled with generated values (huge, negative,
fractional, unicode digits, empty, very long, NUL, odd unicode) answers below 500.

The routes come from the app's URL map, so a new route is fuzzed the moment it
exists; a POST route this file does not know how to reach fails the first test
until it is added to HOW_TO_REACH (or, with a reason, to NOT_FUZZED). The field
names come from the form on the page, as a browser would send them, with the
page's own options (radios, selects, checkboxes) among the values tried so the
checks behind a valid choice are reached too. CSRF is switched off in this app:
the CSRF tests are elsewhere, and every example here should reach the view.

Runs on SQLite and on PostgreSQL (TEST_DATABASE_URL), where an overflowing
integer, a VARCHAR(n) too long or a NUL character is a database error.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from flask import url_for
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from shared.app import create_app
from shared.domain import two_factor
from shared.domain.referrals import PACK_COLUMNS
from shared.domain.vat import VatRate
from shared.models import (
    AccountHold,
    ApprovalKind,
    ApprovalRequest,
    Arrangement,
    ArrangementStatus,
    Channel,
    CodePurpose,
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
    PaymentMethod,
    PaymentRoute,
    PortalOneTimeCode,
    ReferralDestination,
    StaffRole,
)
from shared.models.base import utcnow
from shared.models.directdebit import Mandate, MandateSource, MandateStatus, ModulusOutcome
from shared.services import actors, journal, ledger, plans, portal_accounts
from shared.services.actors import SYSTEM
from shared.services.directdebit import bank_details
from tests.bank_statement_world import a_line_waiting_for_an_officer
from tests.conftest import make_config
from tests.factories import make_account, make_department, make_portal_login, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import sign_in_portal

pytestmark = frozen_clock
EXAMPLES_PER_FORM = 8
EXAMPLES_PER_PAGE = 5

# What people (and attackers) type that the happy-path tests never do.
AWKWARD = [
    "",
    " ",
    "0",
    "-1",
    "-0.01",
    "0.001",
    "1.5",
    "12.345",
    "1e9",
    "NaN",
    "inf",
    "²",
    "١٢٣",
    "①②",
    "１２",
    "9" * 5000,
    "9" * 40,
    "21474836.48",
    "99999999.99",
    "999999999",
    "2147483648",
    "9223372036854775808",
    "-9223372036854775809",
    "£1,000,000,000.00",
    "\x00",
    "12\x00",
    "a\x00b",
    "x" * 5000,
    "é" * 300,
    "🙂" * 100,
    "\u202e\u200b",
    "0/0/0",
    "31/2/2026",
    "1/1/0",
    "1/1/99999",
    "0001-01-01",
    "99999-12-31",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%n",
    "\r\n",
    "null",
    "[]",
]


def values(options: list[str]):
    """Generated text for one field; the page's own choices among them when it has some."""
    generated = st.one_of(
        st.sampled_from(AWKWARD),
        st.text(max_size=30),
        st.integers(min_value=-(10**30), max_value=10**30).map(str),
        st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    )
    if options:
        return st.one_of(st.sampled_from(options), st.sampled_from(options), generated)
    return generated


# --- who asks, and the state a step needs ----------------------------------------------

OWNER, SIGNED_OUT, TEAM_LEADER, ADMIN, OFFICER = (
    "owner",
    "signed out",
    "team_leader",
    "admin",
    "officer",
)
SETTING_UP, ENTERING_CODE = "half signed in, setting up", "half signed in, entering a code"
CODE_ACCEPTED = "half signed in, code accepted, choosing a new password"


@dataclass(frozen=True)
class Reach:
    """How to reach a POST route: who asks, what the browser's session already holds
    (a function of the world), and the page whose form posts there (None: the route)."""

    who: str
    page: str | None = None
    session: object = None  # callable(world) -> dict


def _plan_answers(world) -> dict:
    return {
        "payment_plan": {
            "account_id": world.account.id,
            "invoice_ids": [world.plannable.id],
            "frequency": Frequency.MONTHLY.value,
            "count": 3,
            "start": (TODAY + timedelta(days=7)).isoformat(),
            "route": PaymentRoute.CARD.value,
        }
    }


def _large_plan_answers(world) -> dict:
    answers = _plan_answers(world)
    answers["payment_plan"]["invoice_ids"] = [world.large.id]
    return answers


def _journey(name: str, **state):
    def session_for(world) -> dict:
        progress = {"journey": name, "account_id": world.account.id, **state}
        if name == "link":
            progress["portal_user_id"] = world.owner.id
        if "code_id" in state:
            progress["code_id"] = world.code_ids[(name, bool(state.get("verified")))]
        return {"portal_journey": progress}

    return session_for


def _direct_debit_answers(*, sealed: bool = False, sole_signatory: bool = False):
    """The portal's Direct Debit sign-up answers so far (the bank details sealed)."""

    def session_for(world) -> dict:
        answers = {"account_id": world.account.id, "purpose": "invoices", "plan_id": None}
        if sealed:
            details = bank_details.BankDetails("089999", "66374958")
            answers.update(holder_name="A SMITH", sealed=bank_details.seal(details))
        if sole_signatory:
            answers["sole_signatory"] = True
        return {"direct_debit": answers}

    return session_for


def _bacs_item_waiting() -> tuple[int, int]:
    """A report from Bacs whose one advice waits for an officer (no mandate has its
    reference): (report id, item id)."""
    import sqlalchemy as sa

    from shared.extensions import db as _db
    from shared.models import BacsReportItem
    from shared.services.directdebit import returns
    from tests.bacs_report_samples import Return, arudd

    content = arudd([Return("ZZ0000000-01", "9.99", "0")])
    report = returns.import_report(SYSTEM, "fuzz.xml", content)
    item_id = _db.session.scalar(
        sa.select(BacsReportItem.id).where(BacsReportItem.report_id == report.id)
    )
    return report.id, item_id


def _quick_pay(world) -> dict:
    return {"quick_pay": {"account_id": world.account.id, "invoice_ids": [world.plannable.id]}}


HOW_TO_REACH: dict[str, Reach] = {
    # The portal: the owner of the account, or nobody signed in for the public pages.
    "portal.sign_in": Reach(SIGNED_OUT),
    "portal.sign_out": Reach(OWNER, page="portal.account_detail"),
    "portal.forgot_password": Reach(SIGNED_OUT),
    "portal.reset_password": Reach(SIGNED_OUT),
    "portal.pay_find": Reach(SIGNED_OUT),
    "portal.pay_amount": Reach(SIGNED_OUT, session=_quick_pay),
    "portal.create_account": Reach(SIGNED_OUT),
    "portal.create_account_send_code": Reach(SIGNED_OUT, session=_journey("create")),
    "portal.create_account_enter_code": Reach(
        SIGNED_OUT, session=_journey("create", code_id=True, channel="email")
    ),
    "portal.create_account_details": Reach(
        SIGNED_OUT, session=_journey("create", code_id=True, channel="email", verified=True)
    ),
    "portal.link_account": Reach(OWNER),
    "portal.link_account_send_code": Reach(OWNER, session=_journey("link")),
    "portal.link_account_enter_code": Reach(
        OWNER, session=_journey("link", code_id=True, channel="email")
    ),
    "portal.link_account_relationship": Reach(
        OWNER, session=_journey("link", code_id=True, channel="email", verified=True)
    ),
    "portal.account_pay": Reach(OWNER),
    "portal.contact_details": Reach(OWNER),
    "portal.plan_bills": Reach(OWNER),
    "portal.plan_frequency": Reach(OWNER, session=_plan_answers),
    "portal.plan_amount": Reach(OWNER, session=_plan_answers),
    "portal.plan_start": Reach(OWNER, session=_plan_answers),
    "portal.plan_statement": Reach(OWNER, session=_large_plan_answers),
    "portal.plan_route": Reach(OWNER, session=_plan_answers),
    "portal.plan_check": Reach(OWNER, session=_plan_answers),
    "portal.plan_counter_offer": Reach(OWNER),
    # Direct Debit: the world's account already has a live mandate (change, cancel).
    "portal.direct_debit_start": Reach(OWNER),
    "portal.direct_debit_bank_details": Reach(OWNER, session=_direct_debit_answers()),
    "portal.direct_debit_authorise": Reach(OWNER, session=_direct_debit_answers(sealed=True)),
    "portal.direct_debit_check": Reach(
        OWNER, session=_direct_debit_answers(sealed=True, sole_signatory=True)
    ),
    "portal.direct_debit_change": Reach(OWNER),
    "portal.direct_debit_cancel": Reach(OWNER),
    # The back office: a team leader for case work and approvals, an admin for staff
    # and policies, and the two half-signed-in steps of signing in.
    "backoffice.sign_in": Reach(SIGNED_OUT),
    "backoffice.set_up_authenticator": Reach(SETTING_UP),
    "backoffice.enter_code": Reach(ENTERING_CODE),
    "backoffice.choose_new_password": Reach(CODE_ACCEPTED),
    "backoffice.sign_out": Reach(TEAM_LEADER, page="backoffice.home"),
    "backoffice.sign_out_everywhere": Reach(TEAM_LEADER, page="backoffice.home"),
    "backoffice.add_staff": Reach(ADMIN),
    "backoffice.change_role": Reach(ADMIN),
    "backoffice.change_limits": Reach(ADMIN),
    "backoffice.change_team": Reach(ADMIN),
    "backoffice.deactivate_staff": Reach(ADMIN, page="backoffice.staff_detail"),
    "backoffice.reactivate_staff": Reach(ADMIN, page="backoffice.staff_detail"),
    "backoffice.reset_two_factor": Reach(ADMIN, page="backoffice.staff_detail"),
    "backoffice.reset_password": Reach(ADMIN, page="backoffice.staff_detail"),
    "backoffice.approve_limit_change": Reach(ADMIN),
    "backoffice.reject_limit_change": Reach(ADMIN),
    "backoffice.edit_plan_policy": Reach(ADMIN),
    "backoffice.record_contact": Reach(TEAM_LEADER),
    "backoffice.update_contact_details": Reach(TEAM_LEADER),
    "backoffice.create_account": Reach(TEAM_LEADER),
    "backoffice.edit_account_details": Reach(TEAM_LEADER),
    "backoffice.record_manual_payment": Reach(TEAM_LEADER),
    "backoffice.create_invoice_schedule": Reach(TEAM_LEADER),
    "backoffice.cancel_invoice_schedule": Reach(TEAM_LEADER),
    "backoffice.raise_credit_note": Reach(TEAM_LEADER),
    "backoffice.request_write_off": Reach(TEAM_LEADER),
    "backoffice.request_refund": Reach(TEAM_LEADER),
    "backoffice.allocate_credit": Reach(TEAM_LEADER),
    "backoffice.place_hold": Reach(TEAM_LEADER),
    "backoffice.lift_hold": Reach(TEAM_LEADER, page="backoffice.account_holds"),
    "backoffice.record_crisis_end": Reach(TEAM_LEADER),
    "backoffice.verify_payment": Reach(TEAM_LEADER),
    "backoffice.refer_to_enforcement": Reach(TEAM_LEADER),
    "backoffice.record_judgment": Reach(TEAM_LEADER),
    "backoffice.record_acknowledgement": Reach(TEAM_LEADER),
    "backoffice.record_claim_reply": Reach(TEAM_LEADER),
    "backoffice.resolve_claim_reply": Reach(TEAM_LEADER),
    "backoffice.decide_request": Reach(TEAM_LEADER, page="backoffice.approval_queue"),
    # The officer who asked is the one who may withdraw.
    "backoffice.withdraw_request": Reach(OFFICER, page="backoffice.my_requests"),
    "backoffice.approve_plan": Reach(TEAM_LEADER, page="backoffice.plan_detail"),
    "backoffice.reject_plan": Reach(TEAM_LEADER, page="backoffice.plan_detail"),
    "backoffice.counter_offer_plan": Reach(TEAM_LEADER, page="backoffice.plan_detail"),
    "backoffice.review_broken_plan": Reach(TEAM_LEADER, page="backoffice.plan_detail"),
    "backoffice.bank_statements": Reach(TEAM_LEADER),
    "backoffice.invoice_imports": Reach(TEAM_LEADER),
    "backoffice.resolve_bank_line": Reach(TEAM_LEADER),
    # Finance settings: an administrator's.
    "backoffice.department_income_codes": Reach(ADMIN),
    "backoffice.edit_income_code": Reach(ADMIN),
    "backoffice.set_income_code_status": Reach(ADMIN, page="backoffice.edit_income_code"),
    "backoffice.edit_payment_terms": Reach(ADMIN),
    "backoffice.edit_collection_target": Reach(ADMIN),
    "backoffice.vat_rate_history": Reach(ADMIN),
    # The recovery ladder and message templates: an administrator's.
    "backoffice.edit_dunning_policy": Reach(ADMIN),
    "backoffice.new_message_template": Reach(ADMIN),
    "backoffice.edit_message_template": Reach(ADMIN),
    "backoffice.install_message_template_defaults": Reach(
        ADMIN, page="backoffice.message_templates"
    ),
    # Officer-sent correspondence (the world has no officer templates, so the journey's
    # forms are posted as their fields) and a retry from the case's message log.
    "backoffice.choose_correspondence": Reach(TEAM_LEADER),
    "backoffice.write_correspondence": Reach(TEAM_LEADER),
    "backoffice.send_correspondence": Reach(TEAM_LEADER),
    "backoffice.retry_message": Reach(TEAM_LEADER, page="backoffice.account_messages"),
    # The Late Payment Act base-rate table: an administrator's.
    "backoffice.add_base_rate": Reach(ADMIN, page="backoffice.base_rates"),
    "backoffice.remove_base_rate": Reach(ADMIN),
    # Invoices: the team leader raised the world's draft; an officer checks.
    "backoffice.raise_invoice": Reach(TEAM_LEADER),
    "backoffice.edit_invoice_draft": Reach(TEAM_LEADER),
    "backoffice.invoice_draft": Reach(TEAM_LEADER),
    "backoffice.invoice_draft_action": Reach(TEAM_LEADER, page="backoffice.invoice_draft"),
    "backoffice.check_invoice": Reach(OFFICER),
    "backoffice.journals": Reach(TEAM_LEADER),
    "backoffice.take_direct_debit_by_phone": Reach(TEAM_LEADER),
    "backoffice.record_paper_direct_debit": Reach(TEAM_LEADER),
    "backoffice.change_direct_debit": Reach(TEAM_LEADER),
    "backoffice.cancel_direct_debit": Reach(TEAM_LEADER),
    "backoffice.bacs_reports": Reach(OFFICER),
    "backoffice.resolve_bacs_item": Reach(OFFICER),
    # The day's Bacs collection file: building (nothing is due in this world), and the
    # world's built file released or withdrawn.
    "backoffice.bacs_files": Reach(TEAM_LEADER),
    "backoffice.release_bacs_file": Reach(TEAM_LEADER, page="backoffice.bacs_file"),
    "backoffice.withdraw_bacs_file": Reach(TEAM_LEADER),
    # The print batch of letters: the world's built batch released or withdrawn (building
    # again returns it).
    "backoffice.print_batches_page": Reach(TEAM_LEADER),
    "backoffice.release_print_batch": Reach(TEAM_LEADER, page="backoffice.print_batch"),
    "backoffice.withdraw_print_batch": Reach(TEAM_LEADER),
    # A dunning run for the date previewed (any date typed; a future one is refused).
    "backoffice.start_dunning_run": Reach(TEAM_LEADER),
}

# POST routes deliberately not fuzzed here, each with the reason.
# None yet: every POST route of both blueprints is fuzzed.
NOT_FUZZED: dict[str, str] = {}

# POST routes whose form is not on any page of this world (it shows only for a broken
# plan, a limit change waiting for a second admin, a crisis space, a payment waiting
# for verification): the fields the form sends.
FIELDS_WITHOUT_A_FORM: dict[str, list[str]] = {
    "backoffice.review_broken_plan": ["decision", "note", "reason"],
    # "Run now" shows only under a preview (a GET with the date).
    "backoffice.start_dunning_run": ["run_date"],
    # The world's Bacs file is in play for the next processing day: no Build button.
    "backoffice.bacs_files": [],
    # The world's print batch is in play: no Build button.
    "backoffice.print_batches_page": [],
    "backoffice.reactivate_staff": [],
    "backoffice.approve_limit_change": [],
    "backoffice.reject_limit_change": [],
    "backoffice.record_crisis_end": ["treatment_ended_on", "space_ends_on"],
    "backoffice.verify_payment": ["entry_id"],
    # Every seeded base rate has taken effect: no rate has a Remove button.
    "backoffice.remove_base_rate": ["rate_id"],
    # No officer template in this world: the journey's forms are not shown.
    "backoffice.choose_correspondence": ["template", "channel"],
    "backoffice.write_correspondence": ["template", "channel", "note", "edit"],
    "backoffice.send_correspondence": ["template", "channel", "note", "submission_key"],
    # The world's draft is not waiting to be checked, so its page shows no buttons.
    "backoffice.check_invoice": ["version", "action", "note"],
    # The account has a Direct Debit already, so the start page offers change and cancel.
    "portal.direct_debit_start": ["purpose"],
}

# Query-string names the pages read, beyond those of the pages' own GET forms.
QUERY_NAMES = ["page", "after", "before", "cursor", "q", "next", "status", "sort", "kind", "from"]


# --- the world -------------------------------------------------------------------------


@dataclass
class World:
    account: object
    owner: object
    plannable: object
    large: object
    admin: object
    leader: object
    officer: object
    setting_up: object
    entering_code: object
    values: dict
    code_ids: dict = field(default_factory=dict)


def _invoice(account, department, number, pence):
    return ledger.raise_invoice(
        account_id=account.id,
        department_id=department.id,
        number=number,
        issue_date=TODAY - timedelta(days=60),
        due_date=TODAY - timedelta(days=30),
        description="Trade waste collections",
        lines=[ledger.LineInput("Collections", 1, pence)],
        actor=SYSTEM,
    )


def _code(db, account, purpose, portal_user_id, *, verified: bool) -> int:
    row = PortalOneTimeCode(
        account_id=account.id,
        portal_user_id=portal_user_id,
        purpose=purpose,
        channel=Channel.EMAIL,
        salt="salt",
        code_hash="not a hash of anything",
        expires_at=utcnow() + timedelta(minutes=15),
        verified_at=utcnow() if verified else None,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def build_world(db) -> World:
    department = make_department(name="Trade waste")
    account = make_account(email="debtor@example.com", mobile_phone="07700900123")
    plannable = _invoice(account, department, "INV-F1", 10_000)
    # Large enough that a plan of it asks for income and spending.
    large = _invoice(account, department, "INV-F4", 90_000)
    in_plan = _invoice(account, department, "INV-F2", 50_000)
    countered = _invoice(account, department, "INV-F3", 20_000)
    owner = make_portal_login(account)
    admin = make_staff(StaffRole.ADMIN)
    leader = make_staff(StaffRole.TEAM_LEADER)
    officer = make_staff(StaffRole.OFFICER)
    # The member of staff the admin pages act on (deactivated, reset... by the fuzzing).
    target = make_staff(
        StaffRole.OFFICER,
        full_name="Target Person",
        totp_secret=two_factor.new_secret(),
        totp_enrolled_at=utcnow(),
    )
    setting_up = make_staff(StaffRole.OFFICER)
    entering_code = make_staff(
        StaffRole.OFFICER, totp_secret=two_factor.new_secret(), totp_enrolled_at=utcnow()
    )
    # Credit on the account, for refunds and allocation.
    ledger.record_payment(
        account_id=account.id,
        amount_pence=2_500,
        method=PaymentMethod.BANK_TRANSFER,
        actor=actors.staff(officer.id),
        external_reference="fuzz-credit",
        allocations=[],
    )
    hold = AccountHold(
        account_id=account.id,
        kind=HoldKind.QUERY,
        reason="Fuzz",
        starts_on=TODAY,
        expires_on=TODAY + timedelta(days=30),
        placed_by=officer.id,
    )
    approval = ApprovalRequest(
        account_id=account.id,
        kind=ApprovalKind.WRITE_OFF,
        amount_pence=1_000,
        reason_code="other",
        reason="Fuzz",
        payload={"invoice_id": in_plan.id, "invoice_number": in_plan.number},
        requested_by_staff_id=officer.id,
    )
    referral = EnforcementReferral(
        account_id=account.id,
        destination=ReferralDestination.LEGAL,
        amount_pence=1_000,
        referred_on=TODAY,
        note="Fuzz",
        referred_by=officer.id,
        pack_row=dict.fromkeys(PACK_COLUMNS, "") | {"account_reference": account.reference},
    )
    db.session.add_all([hold, approval, referral])
    db.session.commit()
    start = TODAY + timedelta(days=7)
    # Made directly, as proposing through the service would approve a plan this small.
    proposed = Arrangement(
        account_id=account.id,
        status=ArrangementStatus.PROPOSED,
        frequency=Frequency.MONTHLY,
        total_pence=1_000,
        start_date=start,
        payment_route=PaymentRoute.CARD,
        instalment_count=1,
        instalments=[Instalment(sequence=1, due_date=start, amount_pence=1_000)],
    )
    db.session.add(proposed)
    db.session.commit()
    offered = plans.propose(
        account_id=account.id,
        invoice_ids=[countered.id],
        terms=plans.Terms(Frequency.MONTHLY, start, count=20),
        payment_route=PaymentRoute.CARD,
        actor=SYSTEM,
    )
    plans.counter_offer(
        arrangement_id=offered.id,
        terms=plans.Terms(Frequency.MONTHLY, start, count=10),
        reason="Twelve months is our longest plan",
        actor=actors.staff(leader.id),
    )
    world = World(
        account=account,
        owner=owner,
        plannable=plannable,
        large=large,
        admin=admin,
        leader=leader,
        officer=officer,
        setting_up=setting_up,
        entering_code=entering_code,
        values={},
    )
    world.code_ids = {
        ("create", False): _code(db, account, CodePurpose.CREATE_LOGIN, None, verified=False),
        ("create", True): _code(db, account, CodePurpose.CREATE_LOGIN, None, verified=True),
        ("link", False): _code(db, account, CodePurpose.LINK_ACCOUNT, owner.id, verified=False),
        ("link", True): _code(db, account, CodePurpose.LINK_ACCOUNT, owner.id, verified=True),
    }
    world.values = {
        "reference": account.reference,
        "number": plannable.number,
        "staff_id": target.id,
        "approval_id": approval.id,
        "hold_id": hold.id,
        "referral_id": referral.id,
        "letter_id": _letter_of_claim(db, account),
        "arrangement_id": proposed.id,
        "plan_id": offered.id,
        "department_id": department.id,
        "token": _reset_token(owner),
        "checkout": "CP-NOSUCHCHECKOUT",
        "change_id": 999_999,
        "schedule_id": _invoice_schedule(db, account, department, officer),
        "draft_id": _invoice_draft(db, account, department, leader),
    }
    world.values["import_id"], world.values["line_id"] = a_line_waiting_for_an_officer()
    # An invoice file from the finance system, queued (its status page).
    world.values["invoice_import_id"] = _queued_invoice_import()
    world.values["report_id"], world.values["item_id"] = _bacs_item_waiting()
    # A day's journal to the general ledger, for its download.
    world.values["journal_id"] = journal.export_journal(
        TODAY - timedelta(days=1), SYSTEM, via=JournalVia.SCHEDULE
    ).journal.journal_id
    # The draft's income code, for the finance settings pages; no credit note exists.
    world.values["income_code_id"] = db.session.get(
        InvoiceDraft, world.values["draft_id"]
    ).income_code_id
    world.values["credit_note_number"] = "CN99999999"
    # A live Direct Debit on the account, for its change and cancel pages.
    world.values["mandate_id"] = _mandate(db, account, owner)
    world.values["next_mandate_id"] = world.values["mandate_id"] + 1
    world.values["file_id"] = _bacs_file(db)
    world.values["batch_id"], world.values["which"] = _print_batch(db), "pdf"
    # A message template, for its edit page.
    world.values["template_id"] = _message_template(db)
    world.values["run_id"] = 999999  # no dunning run: its page is not found
    # A management report and its export (tests/views/test_report_pages.py fuzzes each).
    world.values["key"], world.values["fmt"] = "aged-debt", "csv"
    world.values["pack_id"] = 999999  # no monthly report pack: its download is not found
    world.values["year"] = 2026  # this financial year: a department's collection target
    # A text that failed for good, for the message log's Retry.
    world.values["message_id"] = _failed_text(db, account)
    return world


def _message_template(db) -> int:
    """An English letter template (the recovery ladder's stages name templates)."""
    from shared.models import Language, MessageTemplate, TemplateChannel

    template = MessageTemplate(
        key="fuzz.letter",
        channel=TemplateChannel.LETTER,
        language=Language.ENGLISH,
        name="Fuzz",
        subject="About {account_reference}",
        body="Dear {debtor_name}",
    )
    db.session.add(template)
    db.session.commit()
    return template.id


def _failed_text(db, account) -> int:
    from shared.models import OutboxChannel, OutboxMessage, OutboxStatus

    row = OutboxMessage(
        account_id=account.id,
        channel=OutboxChannel.SMS,
        template="plan_missed_payment",
        recipient=account.mobile_phone,
        body="Fuzz",
        status=OutboxStatus.FAILED,
        last_error="Twilio undelivered: error 30003",
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def _print_batch(db) -> int:
    """A built print batch (no files: its downloads are not found)."""
    from shared.models import PrintBatch, PrintBatchStatus

    row = PrintBatch(batch_date=TODAY, status=PrintBatchStatus.BUILT, letter_count=0)
    db.session.add(row)
    db.session.commit()
    return row.id


def _bacs_file(db) -> int:
    """A built Bacs collection file (its content is not read by these pages)."""
    from shared.models import BacsFile, BacsFileStatus

    row = BacsFile(
        serial_number=1,
        processing_day=TODAY + timedelta(days=1),
        input_day=TODAY,
        entry_day=TODAY + timedelta(days=2),
        status=BacsFileStatus.BUILT,
        file_name="bacs-fuzz.txt",
        content="VOL1",
        sha256="0" * 64,
        instruction_count=0,
        debit_count=1,
        debit_total_pence=100,
        credit_count=1,
        credit_total_pence=100,
        summary={"by_code": {"17": {"count": 1, "total_pence": 100}}, "held_back": []},
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def _mandate(db, account, owner) -> int:
    details = bank_details.BankDetails("089999", "66374958")
    mandate = Mandate(
        account_id=account.id,
        reference=f"{account.reference}-01",
        account_holder_name="A SMITH",
        bank_details_encrypted=bank_details.seal(details),
        account_ending=details.account_ending,
        modulus_outcome=ModulusOutcome.VALID,
        source=MandateSource.PORTAL,
        status=MandateStatus.ACTIVE,
        portal_user_id=owner.id,
    )
    db.session.add(mandate)
    db.session.commit()
    return mandate.id


def _queued_invoice_import() -> int:
    from shared.services.invoice_import import importer

    return importer.submit_file(b"customer_id\n", file_name="fuzz.csv", actor=SYSTEM).import_id


def _letter_of_claim(db, account) -> int:
    """A Letter of Claim posted to the account: its reply and dealt-with forms."""
    from shared.models import LetterOfClaim

    letter = LetterOfClaim(
        account_id=account.id,
        amount_pence=1_000,
        written_on=TODAY - timedelta(days=41),
        posted_on=TODAY - timedelta(days=40),
        respond_by=TODAY - timedelta(days=10),
    )
    db.session.add(letter)
    db.session.commit()
    return letter.id


def _invoice_schedule(db, account, department, officer) -> int:
    """A periodic invoice schedule on the account, for the cancel page."""
    schedule = InvoiceSchedule(
        account_id=account.id,
        department_id=department.id,
        description="Fuzz",
        frequency=InvoiceFrequency.MONTHLY,
        start_date=TODAY,
        next_period_date=TODAY,
        created_by_staff_id=officer.id,
    )
    db.session.add(schedule)
    db.session.commit()
    return schedule.id


def _invoice_draft(db, account, department, raiser) -> int:
    """An invoice the team leader is raising (with an income code to choose), for the
    draft pages' forms."""
    code = IncomeCode(
        department_id=department.id,
        code="TW01",
        description="Commercial collections",
        cost_centre="C1",
        ledger_code="L1",
    )
    db.session.add(code)
    db.session.flush()
    draft = InvoiceDraft(
        account_id=account.id,
        department_id=department.id,
        income_code_id=code.id,
        description="Fuzz",
        raised_by_staff_id=raiser.id,
        lines=[
            InvoiceDraftLine(
                line_no=1,
                description="Fuzz",
                quantity=1,
                unit_price_pence=1_000,
                vat_rate=VatRate.STANDARD,
            )
        ],
    )
    db.session.add(draft)
    db.session.commit()
    return draft.id


def _reset_token(user) -> str:
    # The token the emailed link carries, made as request_password_reset makes it.
    serializer = portal_accounts._serializer(portal_accounts._RESET_SALT)
    return serializer.dumps({"u": user.id, "f": portal_accounts._fingerprint(user.password_hash)})


def become(client, who: str, world: World) -> None:
    with client.session_transaction() as session:
        session.clear()
    if who == OWNER:
        sign_in_portal(client, world.owner)
    elif who in (TEAM_LEADER, ADMIN, OFFICER):
        signed_in_session(
            client, {ADMIN: world.admin, TEAM_LEADER: world.leader}.get(who, world.officer)
        )
    elif who in (SETTING_UP, ENTERING_CODE, CODE_ACCEPTED):
        user = world.setting_up if who == SETTING_UP else world.entering_code
        with client.session_transaction() as session:
            session["staff_sign_in"] = {
                "id": user.id,
                "version": user.session_version,
                "at": int(time.time()),
            }
            if who == CODE_ACCEPTED:
                session["staff_sign_in"]["code_ok"] = True


# --- reading the form a browser would send ------------------------------------------------


def form_fields(html, action: str, *, own_page: bool) -> dict[str, list[str]] | None:
    """The fields of the POST form that submits to `action` (name -> the page's own values)."""
    for form in parse_html(html).select("form"):
        if (form.get("method") or "get").lower() != "post":
            continue
        target = urlsplit(form.get("action") or "").path
        if target != action and not (own_page and target == ""):
            continue
        return _fields_of(form)
    return None


def get_form_fields(html) -> set[str]:
    names = set()
    for form in parse_html(html).select("form"):
        if (form.get("method") or "get").lower() == "get":
            names |= set(_fields_of(form))
    return names


def _fields_of(form) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for element in form.select("input[name], select[name], textarea[name]"):
        name = element["name"]
        if name == "csrf_token" or element.get("type") in ("submit", "button", "image"):
            continue
        options = fields.setdefault(name, [])
        if element.name == "select":
            options += [o.get("value", o.get_text()) for o in element.select("option")]
        elif element.get("value") is not None:
            options.append(element["value"])
    return fields


def parse_html(html):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


# --- the routes ------------------------------------------------------------------------


def _rules():
    app = create_app(make_config("sqlite://"))
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("portal.", "backoffice."))
    }


RULES = _rules()
POST_ROUTES = sorted(e for e, r in RULES.items() if "POST" in r.methods)
GET_ROUTES = sorted(e for e, r in RULES.items() if "GET" in r.methods)


def test_every_post_route_of_both_blueprints_is_fuzzed_or_excluded_with_a_reason():
    unknown = set(POST_ROUTES) - set(HOW_TO_REACH) - set(NOT_FUZZED)
    assert not unknown, f"say how to reach {sorted(unknown)} in HOW_TO_REACH"
    assert set(HOW_TO_REACH) - set(POST_ROUTES) == set(), "remove routes that no longer exist"


@pytest.fixture
def fuzz_app(app, isolated_limiter):
    # The CSRF tests are elsewhere; here every example should reach the view.
    app.config["WTF_CSRF_ENABLED"] = False
    isolated_limiter(app)
    return app


def _path(app, endpoint: str, world: World) -> str:
    rule = RULES[endpoint]
    given = rule.arguments - set(rule.defaults or {})
    with app.test_request_context():
        return url_for(endpoint, **{name: world.values[name] for name in given})


def _fuzz_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _answer(send, path, **request):
    # TESTING re-raises a view's exception instead of answering 500: say what was sent.
    try:
        return send(path, **request)
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__}: {exc} from {path} {request!r}") from exc


# Pages that hand over to the card provider: with no provider running in this test
# they answer the designed 503 "try again later" page, which is not a server error.
PROVIDER_PAGES = {"portal.pay_amount", "portal.account_pay"}


def _acceptable(endpoint: str, status: int) -> bool:
    return status < 500 or (status == 503 and endpoint in PROVIDER_PAGES)


def _html(response) -> str:
    return response.get_data(as_text=True) if response.mimetype == "text/html" else ""


@dataclass(frozen=True)
class Target:
    endpoint: str
    path: str
    prepare: object  # callable(): put the asker's session in the client
    fields: dict  # name -> the page's own values


def _post_target(app, db, client, world: World, endpoint: str) -> Target:
    """Where a POST route is, who asks, and its form's fields as its page shows them."""
    reach = HOW_TO_REACH[endpoint]
    extra = reach.session(world) if reach.session else {}

    def prepare():
        db.session.rollback()
        become(client, reach.who, world)
        if extra:
            with client.session_transaction() as session:
                session.update(extra)

    path = _path(app, endpoint, world)
    if endpoint in FIELDS_WITHOUT_A_FORM:
        return Target(endpoint, path, prepare, dict.fromkeys(FIELDS_WITHOUT_A_FORM[endpoint], []))
    prepare()
    page = _path(app, reach.page, world) if reach.page else path
    shown = client.get(page)
    assert shown.status_code == 200, f"{page} answered {shown.status_code}"
    fields = form_fields(_html(shown), path, own_page=reach.page is None)
    assert fields is not None, f"no form on {page} posts to {path}"
    return Target(endpoint, path, prepare, fields)


# Tried in every field of every form, whatever the random examples happen to be: each
# is a kind of value that once got a server error.
EVERY_FIELD = ["²", "9" * 5000, "99999999999.99", "\x00", "x" * 5000, "1/1/99999", "-1"]


def _every_field(fields: dict, value: str) -> dict:
    # Choices keep one of the page's own values (the last: "a different amount",
    # say), so the checks behind the choice are reached.
    return {name: options[-1] if options else value for name, options in fields.items()}


def _fuzz_post(app, db, client, target: Target) -> None:
    strategy = st.fixed_dictionaries(
        {name: values(options) for name, options in target.fields.items()}
    )

    @_fuzz_settings(EXAMPLES_PER_FORM)
    @given(strategy)
    def post_anything(data):
        target.prepare()
        response = _answer(client.post, target.path, data=data)
        assert _acceptable(target.endpoint, response.status_code), (
            f"{response.status_code} from POST {target.path} {data!r}"
        )

    for value in EVERY_FIELD:
        post_anything = example(_every_field(target.fields, value))(post_anything)
    post_anything()


def _get_target(app, db, client, world: World, endpoint: str) -> Target:
    who = OWNER if endpoint.startswith("portal.") else TEAM_LEADER
    who = {
        "backoffice.set_up_authenticator": SETTING_UP,
        "backoffice.enter_code": ENTERING_CODE,
        "backoffice.choose_new_password": CODE_ACCEPTED,
        "backoffice.sign_in": SIGNED_OUT,
    }.get(endpoint, who)

    def prepare(as_who=who):
        db.session.rollback()
        become(client, as_who, world)

    path = _path(app, endpoint, world)
    prepare()
    shown = client.get(path)
    if shown.status_code == 403:
        prepare = functools.partial(prepare, ADMIN)
        prepare()
        shown = client.get(path)
    assert shown.status_code < 500, f"{shown.status_code} from GET {path}"
    names = get_form_fields(_html(shown)) | set(QUERY_NAMES)
    return Target(endpoint, path, prepare, dict.fromkeys(sorted(names), []))


def _fuzz_get(app, db, client, target: Target) -> None:
    @_fuzz_settings(EXAMPLES_PER_PAGE)
    @given(
        st.dictionaries(st.sampled_from(list(target.fields)), values([]), min_size=1, max_size=4)
    )
    def get_anything(query):
        target.prepare()
        response = _answer(client.get, target.path, query_string=query)
        assert _acceptable(target.endpoint, response.status_code), (
            f"{response.status_code} from GET {target.path} {query!r}"
        )

    get_anything()


def _fuzz_each(find, fuzz, app, db, endpoints) -> None:
    """Fuzz every route in one world (a world per route would take minutes), reporting
    every route that failed, not just the first. Every form is read before any is
    fuzzed: a fuzzed post that succeeds (approving the world's plan, say) takes the
    forms for that thing off its page."""
    world = build_world(db)
    client = app.test_client()
    failures, targets = [], []
    for endpoint in endpoints:
        try:
            targets.append(find(app, db, client, world, endpoint))
        except AssertionError as exc:
            failures.append(f"{endpoint}: {exc}")
    for target in targets:
        try:
            fuzz(app, db, client, target)
        except AssertionError as exc:
            failures.append(f"{target.endpoint}: {str(exc).splitlines()[0][:500]}")
    assert not failures, "\n".join(failures)


BLUEPRINTS = ["portal.", "backoffice."]


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_every_form_answers_any_input_without_a_server_error(fuzz_app, db, blueprint):
    endpoints = [e for e in POST_ROUTES if e.startswith(blueprint) and e not in NOT_FUZZED]
    _fuzz_each(_post_target, _fuzz_post, fuzz_app, db, endpoints)


@pytest.mark.parametrize("blueprint", BLUEPRINTS)
def test_every_page_answers_any_query_string_without_a_server_error(fuzz_app, db, blueprint):
    endpoints = [e for e in GET_ROUTES if e.startswith(blueprint)]
    _fuzz_each(_get_target, _fuzz_get, fuzz_app, db, endpoints)

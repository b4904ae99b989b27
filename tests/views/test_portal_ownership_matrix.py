"""Every portal route, GET and POST, for everyone who might ask: the debtor who owns the
account, someone holding power of attorney for it, another debtor (a portal login
linked to a different account), nobody signed in, and a member of staff signed in to
the back office.

The routes come from the app's URL map, so a new portal route is in the matrix the
moment it exists, and fails it until EXPECTED says what each of them gets. The
world is the one the no-server-error fuzzing builds (its account, invoices, plans
and journey states, reused by import), plus the power of attorney, the other
debtor with an account of their own, and a card checkout to return to.

Every POST carries a valid CSRF token for its session (CSRF stays on), and the
account pages are sent a form that would really do something (change the contact
details, start a card payment, send an income and spending statement, propose a
plan, accept the counter-offer): the owner's post is shown to change the account,
and everyone else's to leave it exactly as it was, row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import g, url_for

from portal.plan_forms import ACCEPT, SUBMIT
from shared.app import create_app
from shared.models import (
    Arrangement,
    AuditLog,
    CardCheckout,
    Channel,
    ContactEvent,
    DebtorAccount,
    IncomeExpenditureStatement,
    LedgerEntry,
    OutboxMessage,
    PortalOneTimeCode,
    PortalRelationship,
    PortalUser,
    PortalUserAccount,
)
from shared.services import card_payments, portal_accounts
from shared.services.actors import SYSTEM
from shared.services.card_payments import CheckoutRequest
from tests.conftest import make_config
from tests.factories import make_account, make_portal_login, password_hash
from tests.frozen_clock import frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, sign_in_portal
from tests.views.test_no_server_error_on_any_input import HOW_TO_REACH, TODAY, build_world

# build_world's debts and plans are dated from the frozen TODAY.
pytestmark = frozen_clock

OWNER, POWER_OF_ATTORNEY, ANOTHER_DEBTOR, SIGNED_OUT, STAFF = (
    "owner",
    "power of attorney",
    "another debtor",
    "signed out",
    "staff session",
)

# What a request gets: a status, a path it redirects to ("{reference}" and the like are
# filled in from the world), or SIGN_IN: a redirect to sign in and then come back here.
SIGN_IN = "sign in, then back here"
Outcome = int | str


@dataclass(frozen=True)
class Expect:
    """What each asker gets from one route and method. The power of attorney gets what
    the owner gets unless said otherwise; a staff session gets what nobody signed in
    gets (a back-office sign-in is not a portal one)."""

    owner: Outcome
    another_debtor: Outcome
    signed_out: Outcome
    power_of_attorney: Outcome | None = None

    def for_(self, who: str) -> Outcome:
        if who == POWER_OF_ATTORNEY and self.power_of_attorney is not None:
            return self.power_of_attorney
        return {
            OWNER: self.owner,
            POWER_OF_ATTORNEY: self.owner,
            ANOTHER_DEBTOR: self.another_debtor,
            SIGNED_OUT: self.signed_out,
            STAFF: self.signed_out,
        }[who]


def public(outcome: Outcome) -> Expect:
    """A page for anyone: signed in or not, everyone gets the same."""
    return Expect(outcome, outcome, outcome)


def theirs(outcome: Outcome) -> Expect:
    """A page of one account: for the people linked to it; anyone else's login gets a
    404 exactly like an account that does not exist; nobody signed in, sign in."""
    return Expect(outcome, 404, SIGN_IN)


def signed_in(outcome: Outcome, *, someone_else: Outcome | None = None) -> Expect:
    """A page of the login itself, not of one account: any portal login, nobody else."""
    other = outcome if someone_else is None else someone_else
    return Expect(outcome, other, SIGN_IN, power_of_attorney=other)


ACCOUNT = "/account/{reference}"
PLAN = "/account/{reference}/plan"
DIRECT_DEBIT = "/account/{reference}/direct-debit"
# The half-done link in the session was started by the owner's login: anyone else's
# login is sent back to the start of the journey, not into the owner's.
OWNERS_JOURNEY = signed_in(200, someone_else="/account/link")

EXPECTED: dict[tuple[str, str], Expect] = {
    # Public pages: the start page, signing in and out, forgotten passwords, quick pay
    # and creating a login. A form posted with nothing in it comes back with errors.
    ("portal.start", "GET"): public(200),
    ("portal.sign_in", "GET"): public(200),
    ("portal.sign_in", "POST"): public(200),
    ("portal.sign_out", "POST"): public("/sign-in"),
    ("portal.forgot_password", "GET"): public(200),
    ("portal.forgot_password", "POST"): public(200),
    ("portal.forgot_password_sent", "GET"): public(200),
    ("portal.reset_password", "GET"): public(200),
    ("portal.reset_password", "POST"): public(200),
    ("portal.verify_email", "GET"): public(200),
    ("portal.pay_find", "GET"): public(200),
    ("portal.pay_find", "POST"): public(200),
    # The bill this browser found (quick pay's session), whoever is signed in.
    ("portal.pay_amount", "GET"): public(200),
    ("portal.pay_amount", "POST"): public(200),
    # The checkout this browser started.
    ("portal.pay_return", "GET"): public(200),
    # A receipt for a paid bill this browser found (test_quick_pay_paid_bills.py); with
    # none found, find one first.
    ("portal.pay_receipt", "GET"): public("/pay"),
    ("portal.create_account", "GET"): public(200),
    ("portal.create_account", "POST"): public(200),
    ("portal.create_account_send_code", "GET"): public(200),
    ("portal.create_account_send_code", "POST"): public(200),
    ("portal.create_account_enter_code", "GET"): public(200),
    ("portal.create_account_enter_code", "POST"): public(200),
    ("portal.create_account_details", "GET"): public(200),
    ("portal.create_account_details", "POST"): public(200),
    # The login's own pages: each login is sent to its own one account.
    ("portal.account_home", "GET"): Expect(ACCOUNT, "/account/{other_reference}", SIGN_IN),
    ("portal.link_account", "GET"): signed_in(200),
    ("portal.link_account", "POST"): signed_in(200),
    ("portal.link_account_send_code", "GET"): OWNERS_JOURNEY,
    ("portal.link_account_send_code", "POST"): OWNERS_JOURNEY,
    ("portal.link_account_enter_code", "GET"): OWNERS_JOURNEY,
    ("portal.link_account_enter_code", "POST"): OWNERS_JOURNEY,
    ("portal.link_account_relationship", "GET"): OWNERS_JOURNEY,
    ("portal.link_account_relationship", "POST"): OWNERS_JOURNEY,
    # One account's pages.
    ("portal.account_detail", "GET"): theirs(200),
    ("portal.invoice_detail", "GET"): theirs(200),
    ("portal.invoice_pdf", "GET"): theirs(200),
    ("portal.statement_pdf", "GET"): theirs(200),
    ("portal.contact_details", "GET"): theirs(200),
    ("portal.contact_details", "POST"): theirs(ACCOUNT),
    ("portal.account_pay", "GET"): theirs(200),
    # The checkout is made, then the card provider (not running in this test) is
    # down: the designed "try again later" page.
    ("portal.account_pay", "POST"): theirs(503),
    ("portal.account_pay_return", "GET"): theirs(200),
    # The plan steps, each with every answer already given, so each page shows.
    ("portal.plan_bills", "GET"): theirs(200),
    ("portal.plan_bills", "POST"): theirs(PLAN + "/frequency"),
    ("portal.plan_frequency", "GET"): theirs(200),
    ("portal.plan_frequency", "POST"): theirs(PLAN + "/amount"),
    ("portal.plan_amount", "GET"): theirs(200),
    ("portal.plan_amount", "POST"): theirs(PLAN + "/start"),
    ("portal.plan_start", "GET"): theirs(200),
    ("portal.plan_start", "POST"): theirs(PLAN + "/check"),
    ("portal.plan_statement", "GET"): theirs(200),
    ("portal.plan_statement", "POST"): theirs(PLAN + "/how-to-pay"),
    ("portal.plan_route", "GET"): theirs(200),
    ("portal.plan_route", "POST"): theirs(PLAN + "/check"),
    ("portal.plan_check", "GET"): theirs(200),
    ("portal.plan_check", "POST"): theirs(PLAN + "/{new_plan_id}/confirmation"),
    # The world's plan is counter-offered: its confirmation page sends on to the offer.
    ("portal.plan_done", "GET"): theirs(PLAN + "/{plan_id}/counter-offer"),
    ("portal.plan_counter_offer", "GET"): theirs(200),
    ("portal.plan_counter_offer", "POST"): theirs(PLAN + "/{plan_id}/confirmation"),
    # Direct Debit. The world's account has a live mandate, so the start page offers to
    # change or cancel it, and "confirm" shows that mandate instead of making another.
    ("portal.direct_debit_start", "GET"): theirs(200),
    ("portal.direct_debit_start", "POST"): theirs(200),
    ("portal.direct_debit_bank_details", "GET"): theirs(200),
    ("portal.direct_debit_bank_details", "POST"): theirs(DIRECT_DEBIT + "/authorise"),
    ("portal.direct_debit_authorise", "GET"): theirs(200),
    ("portal.direct_debit_authorise", "POST"): theirs(DIRECT_DEBIT + "/check"),
    ("portal.direct_debit_paper_form", "GET"): theirs(200),
    ("portal.direct_debit_check", "GET"): theirs(200),
    ("portal.direct_debit_check", "POST"): theirs(DIRECT_DEBIT + "/{mandate_id}/confirmation"),
    ("portal.direct_debit_done", "GET"): theirs(200),
    ("portal.direct_debit_change", "GET"): theirs(200),
    ("portal.direct_debit_change", "POST"): theirs(
        DIRECT_DEBIT + "/{next_mandate_id}/confirmation"
    ),
    ("portal.direct_debit_cancel", "GET"): theirs(200),
    ("portal.direct_debit_cancel", "POST"): theirs(ACCOUNT),
}

# The account pages whose form, posted by someone linked to the account, changes it:
# so the same post from anyone else is a real attempt on the account.
CHANGES_THE_ACCOUNT = {
    "portal.contact_details",
    "portal.account_pay",
    "portal.plan_statement",
    "portal.plan_check",
    "portal.plan_counter_offer",
    "portal.direct_debit_change",
    "portal.direct_debit_cancel",
}


def _portal_rules():
    app = create_app(make_config("sqlite://"))
    return {
        rule.endpoint: rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("portal.")
    }


RULES = _portal_rules()
CASES = sorted(
    (endpoint, method)
    for endpoint, rule in RULES.items()
    for method in ("GET", "POST")
    if method in rule.methods
)


def test_every_portal_route_and_method_is_in_the_expected_table_and_nothing_else_is():
    assert set(CASES) - set(EXPECTED) == set(), "add the new route to EXPECTED"
    assert set(EXPECTED) - set(CASES) == set(), "remove routes that no longer exist"


# --- the world ---------------------------------------------------------------------------


@dataclass
class People:
    world: object
    poa: PortalUser
    other: PortalUser
    other_account: DebtorAccount
    staff: object
    checkout: object
    values: dict


def _world(db) -> People:
    world = build_world(db)
    poa = PortalUser(email="attorney@example.com", password_hash=password_hash("a long password"))
    db.session.add(poa)
    db.session.flush()
    db.session.add(
        PortalUserAccount(
            portal_user_id=poa.id,
            account_id=world.account.id,
            relationship_to_debtor=PortalRelationship.POWER_OF_ATTORNEY,
            verified_via=Channel.EMAIL,
        )
    )
    db.session.commit()
    other_account = make_account(forename="Morgan", surname="Jones", postcode="ZZ9 9ZZ")
    other = make_portal_login(other_account, email="other@example.com")
    checkout = card_payments.begin_checkout(
        CheckoutRequest(
            world.account.id,
            [(world.plannable.id, 1_000)],
            card_payments.new_submission_key(),
            portal_user_id=world.owner.id,
        ),
        SYSTEM,
    )
    values = dict(world.values, checkout=checkout.reference)
    return People(world, poa, other, other_account, world.officer, checkout, values)


# Route arguments that differ from the world's: quick pay's return page takes the
# checkout's reference; the email link a real token for the owner's address.
def _arguments(endpoint: str, people: People) -> dict:
    rule = RULES[endpoint]
    given = rule.arguments - set(rule.defaults or {})
    values = dict(people.values)
    if endpoint == "portal.pay_return":
        values["reference"] = people.checkout.reference
    if endpoint == "portal.verify_email":
        owner = people.world.owner
        serializer = portal_accounts._serializer(portal_accounts._VERIFY_SALT)
        values["token"] = serializer.dumps({"u": owner.id, "e": owner.email})
    missing = given - set(values)
    assert not missing, f"the matrix cannot fill in {missing} for {endpoint}"
    return {name: values[name] for name in given}


def _session_state(endpoint: str, people: People) -> dict:
    """What the browser's session already holds when it asks: the journey state the
    fuzzing reaches each step with (the plan answers, the half-done link), and for
    quick pay's return page the checkout this browser started. Everyone's browser
    holds the same, so another debtor even has answers for the account in hand."""
    if endpoint == "portal.pay_return":
        return {
            "quick_pay": {
                "account_id": people.world.account.id,
                "invoice_ids": [people.world.plannable.id],
                "checkouts": [people.checkout.reference],
            }
        }
    reach = HOW_TO_REACH.get(endpoint)
    if reach is None or reach.session is None:
        return {}
    return reach.session(people.world)


def _become(client, who: str, people: People) -> None:
    if who == OWNER:
        sign_in_portal(client, people.world.owner)
    elif who == POWER_OF_ATTORNEY:
        sign_in_portal(client, people.poa)
    elif who == ANOTHER_DEBTOR:
        sign_in_portal(client, people.other)
    elif who == STAFF:
        signed_in_session(client, people.staff)


# A form that does what the page is for, so an owner's post changes something and
# anyone else's post is a real attempt on the account.
def _form(endpoint: str, people: People) -> dict:
    world = people.world
    start = TODAY + timedelta(days=7)
    forms = {
        "portal.contact_details": {
            "email": "changed@example.com",
            "mobile_phone": "07700900999",
            "preferred_channel": Channel.EMAIL.value,
        },
        "portal.account_pay": {
            "submission_key": card_payments.new_submission_key(),
            f"amount_{world.plannable.id}": "10.00",
        },
        "portal.plan_bills": {"invoices": [str(world.plannable.id)]},
        "portal.plan_frequency": {"frequency": "monthly"},
        "portal.plan_amount": {"how": "count", "count": "3"},
        "portal.plan_start": {
            "start-day": str(start.day),
            "start-month": str(start.month),
            "start-year": str(start.year),
        },
        "portal.plan_statement": {"wages": "1500.00", "rent": "500.00", "action": SUBMIT},
        "portal.plan_route": {"route": "card"},
        "portal.plan_check": {},
        "portal.plan_counter_offer": {"decision": ACCEPT},
        "portal.direct_debit_bank_details": {
            "holder_name": "A Smith",
            "sort_code": "10-79-99",
            "account_number": "88837491",
        },
        "portal.direct_debit_authorise": {"sole_signatory": "yes"},
        "portal.direct_debit_change": {
            "holder_name": "A Smith",
            "sort_code": "10-79-99",
            "account_number": "88837491",
            "sole_signatory": "yes",
            "version": "1",
        },
        "portal.direct_debit_cancel": {"version": "1"},
    }
    return forms.get(endpoint, {})


def footprint(db, account_id: int) -> dict:
    """Everything a portal request could write about the account, row for row."""
    db.session.expire_all()

    def count(model):
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.account_id == account_id)
        )

    account = db.session.get(DebtorAccount, account_id)
    return {
        "audit rows": count(AuditLog),
        "timeline rows": count(ContactEvent),
        "ledger rows": count(LedgerEntry),
        "card checkouts": count(CardCheckout),
        "statements": count(IncomeExpenditureStatement),
        "messages": count(OutboxMessage),
        "codes": count(PortalOneTimeCode),
        "logins": count(PortalUserAccount),
        "plans": sorted(
            (a.id, a.status.value)
            for a in db.session.scalars(
                sa.select(Arrangement).where(Arrangement.account_id == account_id)
            )
        ),
        "contact": (
            account.email,
            account.mobile_phone,
            account.other_phone,
            account.preferred_channel,
        ),
    }


# --- the matrix --------------------------------------------------------------------------


@pytest.fixture
def matrix_app(app, isolated_limiter):
    # The real rate limiter on keys of this test's own: the matrix signs in and finds
    # bills many times from the test client's one address.
    isolated_limiter(app)
    return app


def _ask(app, client, endpoint: str, method: str, who: str, people: People):
    # The test's app context (and its g) outlives each request: a CSRF token cached
    # there for the last asker's browser would be handed to this one's.
    g.pop("csrf_token", None)
    with app.test_request_context():
        path = url_for(endpoint, **_arguments(endpoint, people))
    _become(client, who, people)
    state = _session_state(endpoint, people)
    if state:
        with client.session_transaction() as session:
            session.update(state)
    if method == "GET":
        return path, client.get(path)
    # A valid CSRF token for this session, so the answer is about who asks.
    token = csrf_token(client, "/sign-in")
    return path, client.post(path, data={"csrf_token": token, **_form(endpoint, people)})


# Those who may not change the account ask in turn in one world (the account is
# checked unchanged after each); the owner and the power of attorney each get a world
# of their own, since their posts change it.
ANYONE_ELSE = "anyone else"
ASKERS = {
    OWNER: [OWNER],
    POWER_OF_ATTORNEY: [POWER_OF_ATTORNEY],
    ANYONE_ELSE: [ANOTHER_DEBTOR, SIGNED_OUT, STAFF],
}


def _check(expect: Expect, who: str, path: str, response, people: People, db) -> None:
    wanted = expect.for_(who)
    location = response.headers.get("Location")
    if wanted == SIGN_IN:
        assert response.status_code == 302, (response.status_code, location)
        sent_to = urlsplit(location)
        assert (sent_to.path, parse_qs(sent_to.query).get("next")) == ("/sign-in", [path])
    elif isinstance(wanted, str):
        newest = db.session.scalar(
            sa.select(sa.func.max(Arrangement.id)).where(
                Arrangement.account_id == people.world.account.id
            )
        )
        assert response.status_code in (302, 303), (response.status_code, location)
        assert location == wanted.format(
            **people.values, other_reference=people.other_account.reference, new_plan_id=newest
        )
    else:
        assert response.status_code == wanted, (response.status_code, location)


def _shows_nothing_of_the_account(response, people: People, redirect: bool) -> None:
    body = response.get_data(as_text=True)
    victim = people.world.account
    secrets = ["Alex Smith", victim.email]
    # A redirect to sign in names the page to come back to, reference and all.
    if not redirect:
        secrets += [victim.reference, people.world.plannable.number]
    shown = [secret for secret in secrets if secret in body]
    assert not shown, f"shows {shown}"


@pytest.mark.parametrize("askers", list(ASKERS))
@pytest.mark.parametrize(("endpoint", "method"), CASES)
def test_who_gets_what_from_each_portal_route(matrix_app, db, endpoint, method, askers):
    expect = EXPECTED.get((endpoint, method))
    assert expect is not None, f"{method} {endpoint} is not in EXPECTED: say who gets what"
    people = _world(db)
    victim = people.world.account.id
    failures = []
    for who in ASKERS[askers]:
        before = footprint(db, victim)
        path, response = _ask(matrix_app, matrix_app.test_client(), endpoint, method, who, people)
        after = footprint(db, victim)
        wanted = expect.for_(who)
        checks = [(_check, expect, who, path, response, people, db)]
        if who not in (OWNER, POWER_OF_ATTORNEY):
            checks.append((_changed, before, after, False))
            if wanted != expect.owner:
                checks.append((_shows_nothing_of_the_account, response, people, wanted != 404))
        elif method == "POST" and endpoint in CHANGES_THE_ACCOUNT:
            checks.append((_changed, before, after, True))
        # Every check of every asker, so one run names all that is wrong.
        for check, *arguments in checks:
            try:
                check(*arguments)
            except AssertionError as exc:
                failures.append(f"{who}: {str(exc).splitlines()[0]}")
    assert not failures, "\n".join(failures)


def _changed(before: dict, after: dict, expected: bool) -> None:
    changed = sorted(name for name in before if before[name] != after[name])
    if expected:
        assert changed, "the post changed nothing in the account: not a real attempt"
    else:
        assert not changed, f"changed someone else's account: {changed}"


def test_the_account_pages_show_their_owner_what_the_matrix_checks_nobody_else_sees(matrix_app, db):
    people = _world(db)
    victim = people.world.account

    _, account_page = _ask(
        matrix_app, matrix_app.test_client(), "portal.account_detail", "GET", OWNER, people
    )
    _, contact_page = _ask(
        matrix_app, matrix_app.test_client(), "portal.contact_details", "GET", OWNER, people
    )

    shown = account_page.get_data(as_text=True)
    for secret in ("Alex Smith", victim.reference, people.world.plannable.number):
        assert secret in shown
    assert victim.email in contact_page.get_data(as_text=True)

"""'Set up a Direct Debit' in the portal: start, bank details, the only-signatory
question (no: the paper form), check, confirmation; then change and cancel from the
account page. Plain form posts throughout (no JavaScript), CSRF on, and only the
signed-in debtor's own accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.direct_debit import SESSION_KEY
from shared.models import (
    Arrangement,
    ArrangementStatus,
    AuditLog,
    Frequency,
    Instalment,
    PaymentRoute,
)
from shared.models.directdebit import Mandate, MandateSource, MandateStatus
from shared.services import actors
from shared.services.directdebit import mandates
from tests.factories import make_account, make_portal_login
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.pages import (
    csrf_token,
    error_summary,
    inline_errors,
    parse,
    sign_in_portal,
    text,
    title,
)

pytestmark = frozen_clock

SORT_CODE, ACCOUNT_NUMBER = "08-99-99", "66374958"


@pytest.fixture(autouse=True)
def no_redis(monkeypatch):
    calls = []
    monkeypatch.setattr(mandates, "enqueue_sync", lambda *a: calls.append(a) or True)
    return calls


@pytest.fixture
def debtor(app, db):
    account = make_account(email="debtor@example.com")
    user = make_portal_login(account)
    return account, user


@pytest.fixture
def signed_in(client, debtor):
    sign_in_portal(client, debtor[1])
    return client


def url(account, step: str) -> str:
    return f"/account/{account.reference}/direct-debit/{step}"


def post(client, path: str, data: dict, *, token_from: str | None = None):
    return client.post(path, data={"csrf_token": csrf_token(client, token_from or path), **data})


def bank_details(client, account, **overrides):
    data = {
        "holder_name": "Mrs J O'Brien",
        "sort_code": SORT_CODE,
        "account_number": ACCOUNT_NUMBER,
    }
    data.update(overrides)
    return post(client, url(account, "bank-details"), data)


def answer_up_to_check(client, account):
    assert post(client, url(account, "set-up"), {"purpose": "invoices"}).status_code == 302
    response = bank_details(client, account)
    assert response.status_code == 302, text(parse(response))
    response = post(client, url(account, "authorise"), {"sole_signatory": "yes"})
    assert response.headers["Location"].endswith("/direct-debit/check")


def stored(db) -> list[Mandate]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Mandate).order_by(Mandate.id)).all()


def dd_plan(db, account):
    plan = Arrangement(
        account_id=account.id,
        status=ArrangementStatus.ACTIVE,
        frequency=Frequency.MONTHLY,
        total_pence=20_000,
        start_date=TODAY + timedelta(days=30),
        payment_route=PaymentRoute.DIRECT_DEBIT,
        instalment_count=2,
        instalments=[
            Instalment(sequence=1, due_date=TODAY + timedelta(days=30), amount_pence=10_000),
            Instalment(sequence=2, due_date=TODAY + timedelta(days=60), amount_pence=10_000),
        ],
    )
    db.session.add(plan)
    db.session.commit()
    return plan


# --- the journey ----------------------------------------------------------------------------


def test_the_whole_journey_sets_up_a_direct_debit_and_shows_its_reference(
    db, signed_in, debtor, no_redis
):
    account, _ = debtor
    start = parse(signed_in.get(url(account, "set-up")))
    assert title(start).startswith("Set up a Direct Debit")
    assert "The Direct Debit Guarantee" in text(start.select_one("#direct-debit-guarantee"))
    assert "0300 123 4567" in text(start.select_one("#council-details"))

    answer_up_to_check(signed_in, account)
    check = signed_in.get(url(account, "check"))
    page = parse(check)
    shown = text(page.select_one("#answers"))
    assert "08-**-**" in shown and "******58" in shown and "MRS J OBRIEN" in shown
    assert ACCOUNT_NUMBER not in check.get_data(as_text=True)
    assert "089999" not in check.get_data(as_text=True)
    assert page.select_one("#direct-debit-guarantee") is not None

    response = post(signed_in, url(account, "check"), {})
    assert response.status_code == 302
    (mandate,) = stored(db)
    assert response.headers["Location"].endswith(f"/direct-debit/{mandate.id}/confirmation")
    assert mandate.source == MandateSource.PORTAL and mandate.collects_invoices
    done = parse(signed_in.get(response.headers["Location"]))
    assert text(done.select_one("#mandate-reference")) == mandate.reference
    assert "What happens next" in text(done)
    # The bank details are gone from the session once the mandate is made.
    with signed_in.session_transaction() as session:
        assert "sealed" not in session[SESSION_KEY]
    assert len(no_redis) == 1


def test_confirm_pressed_twice_makes_one_mandate(db, signed_in, debtor):
    account, _ = debtor
    answer_up_to_check(signed_in, account)
    token = csrf_token(signed_in, url(account, "check"))
    first = signed_in.post(url(account, "check"), data={"csrf_token": token})
    second = signed_in.post(url(account, "check"), data={"csrf_token": token})
    assert first.headers["Location"] == second.headers["Location"]
    assert len(stored(db)) == 1


def test_bank_details_never_travel_in_a_url_or_readable_in_the_session(db, signed_in, debtor):
    account, _ = debtor
    post(signed_in, url(account, "set-up"), {"purpose": "invoices"})
    response = bank_details(signed_in, account)
    assert ACCOUNT_NUMBER not in response.headers["Location"]
    with signed_in.session_transaction() as session:
        kept = repr(dict(session))
    assert ACCOUNT_NUMBER not in kept and "089999" not in kept


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("holder_name", "", "Enter the name on the account"),
        ("sort_code", "", "Enter a sort code"),
        ("sort_code", "12-34", "Sort code must be 6 digits long"),
        ("account_number", "", "Enter your account number"),
        ("account_number", "12AB5678", "Enter a valid account number like 00733445"),
        ("account_number", "66374959", "do not match a real bank account"),
    ],
)
def test_each_bank_details_problem_is_shown_on_its_field(
    db, signed_in, debtor, field, value, message
):
    account, _ = debtor
    post(signed_in, url(account, "set-up"), {"purpose": "invoices"})
    response = bank_details(signed_in, account, **{field: value})
    assert response.status_code == 400
    page = parse(response)
    assert title(page).startswith("Error:")
    assert message in inline_errors(page)[field]
    assert any(message in m for m, href in error_summary(page))
    # Nothing moves on: the next step still wants the bank details.
    assert signed_in.get(url(account, "authorise")).headers["Location"].endswith("/bank-details")


def test_a_sort_code_the_tables_do_not_know_goes_through_with_a_warning(db, signed_in, debtor):
    account, _ = debtor
    post(signed_in, url(account, "set-up"), {"purpose": "invoices"})
    assert (
        bank_details(signed_in, account, sort_code="000000", account_number="12345678").status_code
        == 302
    )
    post(signed_in, url(account, "authorise"), {"sole_signatory": "yes"})
    page = parse(signed_in.get(url(account, "check")))
    assert page.select_one("#could-not-check") is not None


def test_more_than_one_signatory_ends_at_the_paper_form_and_forgets_the_details(
    db, signed_in, debtor
):
    account, _ = debtor
    post(signed_in, url(account, "set-up"), {"purpose": "invoices"})
    bank_details(signed_in, account)
    response = post(signed_in, url(account, "authorise"), {"sole_signatory": "no"})
    assert response.headers["Location"].endswith("/direct-debit/paper-form")
    page = parse(signed_in.get(response.headers["Location"]))
    assert "paper Direct Debit form" in text(page)
    with signed_in.session_transaction() as session:
        assert "sealed" not in session[SESSION_KEY]
    # Check cannot be reached without the details.
    assert signed_in.get(url(account, "check")).status_code == 302
    assert stored(db) == []


def test_the_signatory_question_must_be_answered(db, signed_in, debtor):
    account, _ = debtor
    post(signed_in, url(account, "set-up"), {"purpose": "invoices"})
    bank_details(signed_in, account)
    page = parse(post(signed_in, url(account, "authorise"), {}))
    assert "sole_signatory" in inline_errors(page)


def test_steps_out_of_order_go_back_to_the_first_unanswered(db, signed_in, debtor):
    account, _ = debtor
    response = signed_in.get(url(account, "check"))
    assert response.headers["Location"].endswith("/direct-debit/set-up")


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(db, signed_in, debtor):
    account, _ = debtor
    answer_up_to_check(signed_in, account)
    response = signed_in.post(url(account, "check"), data={})
    assert response.status_code == 400
    assert stored(db) == []


# --- who may -------------------------------------------------------------------------------


def test_another_debtors_account_and_mandate_are_not_found(db, client, debtor):
    account, _ = debtor
    mandate = mandates.sign_up(
        actors.portal_user(debtor[1].id),
        account.id,
        holder_name="J OBRIEN",
        sort_code=SORT_CODE,
        account_number=ACCOUNT_NUMBER,
        sole_signatory=True,
        source=MandateSource.PORTAL,
    )
    other_account = make_account()
    other = make_portal_login(other_account, email="other@example.com")
    sign_in_portal(client, other)
    assert client.get(url(account, "set-up")).status_code == 404
    assert client.get(url(account, f"{mandate.id}/cancel")).status_code == 404
    assert client.get(url(account, f"{mandate.id}/confirmation")).status_code == 404
    # Their own account, someone else's mandate id: also not found.
    assert client.get(url(other_account, f"{mandate.id}/change")).status_code == 404
    token = csrf_token(client, url(other_account, "set-up"))
    response = client.post(url(account, f"{mandate.id}/cancel"), data={"csrf_token": token})
    assert response.status_code == 404
    assert stored(db)[0].status == MandateStatus.PENDING_SUBMISSION


def test_signed_out_is_sent_to_sign_in(db, client, debtor):
    account, _ = debtor
    response = client.get(url(account, "set-up"))
    assert response.status_code == 302
    assert "sign-in" in response.headers["Location"]


# --- the account page, change and cancel ----------------------------------------------------


def test_a_direct_debit_plan_without_a_mandate_says_so_and_links_to_set_one_up(
    db, signed_in, debtor
):
    account, _ = debtor
    plan = dd_plan(db, account)
    page = parse(signed_in.get(f"/account/{account.reference}"))
    assert page.select_one("#plan-needs-direct-debit") is not None
    link = page.select_one("#set-up-direct-debit")["href"]
    assert link.endswith(f"/direct-debit/set-up?plan={plan.id}")
    start = parse(signed_in.get(link))
    assert start.select_one(f"input[value=plan-{plan.id}][checked]") is not None

    post(signed_in, url(account, "set-up"), {"purpose": f"plan-{plan.id}"})
    bank_details(signed_in, account)
    post(signed_in, url(account, "authorise"), {"sole_signatory": "yes"})
    post(signed_in, url(account, "check"), {})
    (mandate,) = stored(db)
    assert mandate.collects_invoices is False
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "mandate.signed_up")
    ).one()
    assert audit.after["for_plan_id"] == plan.id
    page = parse(signed_in.get(f"/account/{account.reference}"))
    assert page.select_one("#plan-needs-direct-debit") is None
    assert page.select_one("#change-direct-debit") is not None


def test_the_payer_changes_bank_details_from_the_account_page(db, signed_in, debtor):
    account, _ = debtor
    answer_up_to_check(signed_in, account)
    post(signed_in, url(account, "check"), {})
    (old,) = stored(db)
    change_url = url(account, f"{old.id}/change")
    page = parse(signed_in.get(change_url))
    assert "08-**-**" in text(page) and ACCOUNT_NUMBER not in str(page)

    bad = post(
        signed_in,
        change_url,
        {
            "holder_name": "J OBRIEN",
            "sort_code": "107999",
            "account_number": "88837490",
            "sole_signatory": "yes",
            "version": str(old.version),
        },
    )
    assert bad.status_code == 400
    assert "do not match" in inline_errors(parse(bad))["account_number"]

    response = post(
        signed_in,
        change_url,
        {
            "holder_name": "J OBRIEN",
            "sort_code": "107999",
            "account_number": "88837491",
            "sole_signatory": "yes",
            "version": str(old.version),
        },
    )
    old, new = stored(db)
    assert response.headers["Location"].endswith(f"/direct-debit/{new.id}/confirmation")
    assert old.status == MandateStatus.CANCELLED and new.replaces_mandate_id == old.id


def test_the_payer_cancels_after_confirming_and_a_second_click_changes_nothing(
    db, signed_in, debtor
):
    account, _ = debtor
    answer_up_to_check(signed_in, account)
    post(signed_in, url(account, "check"), {})
    (mandate,) = stored(db)
    cancel_url = url(account, f"{mandate.id}/cancel")
    page = parse(signed_in.get(cancel_url))
    assert title(page).startswith("Are you sure you want to cancel")
    assert stored(db)[0].status == MandateStatus.PENDING_SUBMISSION  # asking is not cancelling

    token = csrf_token(signed_in, cancel_url)
    data = {"csrf_token": token, "version": str(mandate.version)}
    first = signed_in.post(cancel_url, data=data)
    second = signed_in.post(cancel_url, data=data)
    assert first.headers["Location"].endswith(f"/account/{account.reference}")
    assert second.headers["Location"].endswith(f"/account/{account.reference}")
    assert stored(db)[0].status == MandateStatus.CANCELLED
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "mandate.cancelled"))
        == 1
    )


def test_with_a_live_mandate_the_start_page_offers_change_and_cancel_instead(db, signed_in, debtor):
    account, _ = debtor
    answer_up_to_check(signed_in, account)
    post(signed_in, url(account, "check"), {})
    page = parse(signed_in.get(url(account, "set-up")))
    assert title(page).startswith("You already have a Direct Debit")
    assert stored(db)[0].reference in text(page)


def test_the_plan_journey_offers_direct_debit_online_and_links_to_it_when_done(
    db, signed_in, debtor
):
    account, _ = debtor
    plan = dd_plan(db, account)
    page = parse(signed_in.get(f"/account/{account.reference}/plan/{plan.id}/confirmation"))
    assert "cannot set up a Direct Debit online" not in text(page)
    link = page.select_one("#set-up-direct-debit")
    assert link["href"].endswith(f"/direct-debit/set-up?plan={plan.id}")


def test_details_sealed_under_a_retired_key_are_asked_for_again(db, signed_in, debtor):
    account, _ = debtor
    answer_up_to_check(signed_in, account)
    with signed_in.session_transaction() as session:
        answers = dict(session[SESSION_KEY])
        answers["sealed"] = "gAAAAABnot-a-token-any-key-opens"
        session[SESSION_KEY] = answers
    response = signed_in.get(url(account, "check"))
    assert response.headers["Location"].endswith("/direct-debit/bank-details")
    assert stored(db) == []

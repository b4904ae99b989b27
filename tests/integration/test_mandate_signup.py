"""Taking, changing and cancelling Direct Debit instructions
(shared/services/directdebit/mandates.py): the checks that refuse and write nothing,
what is stored (sealed), the written confirmation, replacement with and without a
0C, and one effect from a double submit. Sort codes and accounts are the modulus
specification's test cases; 000000 is a sort code the tables do not know."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.domain.bacs import calendar
from shared.models import (
    Arrangement,
    ArrangementStatus,
    AuditLog,
    ContactEvent,
    Frequency,
    Instalment,
    OutboxChannel,
    OutboxMessage,
    PaymentRoute,
)
from shared.models.directdebit import Mandate, MandateSource, MandateStatus, ModulusOutcome
from shared.services import actors
from shared.services.directdebit import bank_details, mandates, mandates_jobs
from shared.services.directdebit.mandates_checks import (
    INVALID_ACCOUNT,
    NOT_SOLE_SIGNATORY,
    MandateRefused,
)
from shared.services.errors import Conflict, Forbidden, InvalidRequest, NotFound
from tests.factories import make_account, make_portal_login, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock

VALID = ("08-99-99", "66374958")
OTHER_VALID = ("107999", "88837491")
UNKNOWN_SORT_CODE = ("000000", "12345678")
INVALID = ("089999", "66374959")


@pytest.fixture
def synced(monkeypatch):
    """The after-commit sync jobs asked for, instead of Redis."""
    calls = []
    monkeypatch.setattr(
        mandates, "enqueue_sync", lambda *args: calls.append(args) or True, raising=True
    )
    return calls


@pytest.fixture
def payer(app, db):
    account = make_account(email="payer@example.com")
    user = make_portal_login(account)
    return account, actors.portal_user(user.id, "192.0.2.1")


@pytest.fixture
def officer(app, db):
    return actors.staff(make_staff().id, "192.0.2.2")


def sign_up_online(account, actor, details=VALID, **overrides):
    sort_code, account_number = details
    arguments = {
        "holder_name": "Mrs Jane O'Brien",
        "sort_code": sort_code,
        "account_number": account_number,
        "sole_signatory": True,
        "source": MandateSource.PORTAL,
        "collects_invoices": True,
    }
    arguments.update(overrides)
    return mandates.sign_up(actor, account.id, **arguments)


def counts(db) -> dict[str, int]:
    db.session.expire_all()
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Mandate, OutboxMessage, ContactEvent, AuditLog)
    }


def the_mandates(db) -> list[Mandate]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Mandate).order_by(Mandate.id)).all()


# --- what is stored -----------------------------------------------------------------------


def test_a_sign_up_stores_the_details_sealed_and_pending_with_the_account_reference(
    db, payer, synced
):
    account, actor = payer
    mandate = sign_up_online(account, actor)

    stored = the_mandates(db)[0]
    assert stored.id == mandate.id
    assert stored.reference == f"{account.reference}-01"
    assert stored.status == MandateStatus.PENDING_SUBMISSION
    assert stored.source == MandateSource.PORTAL
    assert stored.account_holder_name == "MRS JANE OBRIEN"
    assert stored.account_ending == "58"
    assert stored.modulus_outcome == ModulusOutcome.VALID
    assert stored.portal_user_id == actor.portal_user_id
    assert stored.collects_invoices is True
    assert "66374958" not in stored.bank_details_encrypted
    opened = bank_details.open_sealed(stored.bank_details_encrypted)
    assert (opened.sort_code, opened.account_number) == ("089999", "66374958")
    # The collections sync is asked for once, after the commit, naming this change.
    assert synced == [(account.id, mandate.id, stored.version)]


def test_a_sort_code_the_tables_do_not_know_is_accepted_and_marked_could_not_check(
    db, payer, synced
):
    account, actor = payer
    sign_up_online(account, actor, UNKNOWN_SORT_CODE)
    stored = the_mandates(db)[0]
    assert stored.modulus_outcome == ModulusOutcome.COULD_NOT_CHECK
    timeline = db.session.scalars(sa.select(ContactEvent.summary)).all()
    assert any("could not be checked" in s for s in timeline)


# --- refusals write nothing ---------------------------------------------------------------


def test_an_account_number_that_fails_the_modulus_check_is_refused_and_nothing_is_written(
    db, payer, synced
):
    account, actor = payer
    before = counts(db)
    with pytest.raises(MandateRefused) as refused:
        sign_up_online(account, actor, INVALID)
    assert refused.value.problems == {"account_number": INVALID_ACCOUNT}
    assert "check the numbers" in INVALID_ACCOUNT.lower()
    assert "66374959" not in str(refused.value)
    assert counts(db) == before
    assert synced == []


@pytest.mark.parametrize("source", [MandateSource.PORTAL, MandateSource.PHONE])
def test_a_joint_account_is_refused_the_paperless_routes_with_the_paper_form_message(
    db, payer, officer, synced, source
):
    account, portal_actor = payer
    actor = portal_actor if source == MandateSource.PORTAL else officer
    before = counts(db)
    with pytest.raises(MandateRefused) as refused:
        sign_up_online(
            account, actor, sole_signatory=False, source=source, read_back_confirmed=True
        )
    assert refused.value.problems == {"sole_signatory": NOT_SOLE_SIGNATORY}
    assert "paper" in NOT_SOLE_SIGNATORY
    assert counts(db) == before


def test_every_field_problem_is_reported_at_once(db, payer, synced):
    account, actor = payer
    with pytest.raises(MandateRefused) as refused:
        mandates.sign_up(
            actor,
            account.id,
            holder_name="",
            sort_code="12-34",
            account_number="abc",
            sole_signatory=False,
            source=MandateSource.PORTAL,
        )
    assert set(refused.value.problems) == {
        "holder_name",
        "sort_code",
        "account_number",
        "sole_signatory",
    }


def test_a_phone_instruction_needs_the_read_back_and_an_officer(db, payer, officer, synced):
    account, portal_actor = payer
    with pytest.raises(MandateRefused) as refused:
        sign_up_online(account, officer, source=MandateSource.PHONE)
    assert set(refused.value.problems) == {"read_back"}
    with pytest.raises(Forbidden):
        sign_up_online(account, portal_actor, source=MandateSource.PHONE, read_back_confirmed=True)
    mandate = sign_up_online(account, officer, source=MandateSource.PHONE, read_back_confirmed=True)
    assert mandate.taken_by_staff_id == officer.staff_id
    assert mandate.portal_user_id is None


def test_a_paper_instruction_is_recorded_with_the_date_signed_and_may_be_joint(
    db, payer, officer, synced
):
    account, _ = payer
    with pytest.raises(MandateRefused) as refused:
        sign_up_online(account, officer, source=MandateSource.PAPER, sole_signatory=False)
    assert set(refused.value.problems) == {"sole_signatory", "date_signed"}
    with pytest.raises(MandateRefused) as refused:
        sign_up_online(
            account, officer, source=MandateSource.PAPER, date_signed=TODAY + timedelta(days=1)
        )
    assert set(refused.value.problems) == {"date_signed"}

    signed = TODAY - timedelta(days=3)
    mandate = sign_up_online(account, officer, source=MandateSource.PAPER, date_signed=signed)
    assert mandate.source == MandateSource.PAPER
    audit = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "mandate.signed_up")
    ).one()
    assert audit.after["date_signed"] == signed.isoformat()


def test_a_plan_of_another_account_is_refused(db, payer, synced):
    account, actor = payer
    other = make_account()
    plan = _dd_plan(db, other)
    with pytest.raises(InvalidRequest):
        sign_up_online(account, actor, for_plan_id=plan.id, collects_invoices=False)
    assert the_mandates(db) == []


# --- the written confirmation -------------------------------------------------------------


def _dd_plan(db, account, *, first_due=None, status=ArrangementStatus.ACTIVE):
    first_due = first_due or TODAY + timedelta(days=30)
    plan = Arrangement(
        account_id=account.id,
        status=status,
        frequency=Frequency.MONTHLY,
        total_pence=30_000,
        start_date=TODAY + timedelta(days=2),
        payment_route=PaymentRoute.DIRECT_DEBIT,
        instalment_count=3,
        instalments=[
            # Too soon to collect: inside the advance notice.
            Instalment(sequence=1, due_date=TODAY + timedelta(days=2), amount_pence=10_000),
            Instalment(sequence=2, due_date=first_due, amount_pence=10_000, paid_pence=2_500),
            Instalment(sequence=3, due_date=first_due + timedelta(days=31), amount_pence=10_000),
        ],
    )
    db.session.add(plan)
    db.session.commit()
    return plan


def test_the_confirmation_is_emailed_with_the_required_content_and_only_the_last_digits(
    app, db, payer, synced
):
    account, actor = payer
    # A Saturday: collected on the Monday after.
    saturday = TODAY + timedelta(days=(5 - TODAY.weekday()) % 7 + 21)
    assert saturday.weekday() == 5
    plan = _dd_plan(db, account, first_due=saturday)
    mandate = sign_up_online(account, actor, for_plan_id=plan.id, collects_invoices=False)

    message = db.session.get(OutboxMessage, mandate.confirmation_message_id)
    assert message.channel == OutboxChannel.EMAIL
    assert message.recipient == "payer@example.com"
    body = message.body
    config = app.config
    for required in (
        "MRS JANE OBRIEN",
        "Sort code: 08-99-99",
        "Account number ending: 58",
        mandate.reference,
        config["COUNCIL_NAME"],
        config["COUNCIL_PHONE"],
        config["COUNCIL_EMAIL"],
        config["COUNCIL_ADDRESS_LINES"][0],
        "The Direct Debit Guarantee",
        "full and immediate refund",
        "£75.00",  # what is left of the first instalment it can collect
        f"{calendar.on_or_after(saturday):%-d %B %Y}",
    ):
        assert required in body, required
    assert "66374958" not in body


def test_without_a_known_first_collection_the_confirmation_promises_an_advance_notice(
    db, payer, synced
):
    account, actor = payer
    mandate = sign_up_online(account, actor)
    body = db.session.get(OutboxMessage, mandate.confirmation_message_id).body
    assert "at least 10 working days before the first collection" in body


def test_without_an_email_address_the_confirmation_is_a_letter(db, officer, synced):
    account = make_account(email=None, postcode="BC1 1AA")
    mandate = sign_up_online(account, officer, source=MandateSource.PHONE, read_back_confirmed=True)
    message = db.session.get(OutboxMessage, mandate.confirmation_message_id)
    assert message.channel == OutboxChannel.LETTER
    assert "BC1 1AA" in message.recipient


def test_no_full_bank_details_on_the_timeline_in_the_audit_log_or_in_any_message(
    db, payer, officer, synced
):
    account, actor = payer
    first = sign_up_online(account, actor)
    db.session.expire_all()
    mandates.change_bank_details(
        officer,
        first.id,
        db.session.get(Mandate, first.id).version,
        holder_name="J OBRIEN",
        sort_code=OTHER_VALID[0],
        account_number=OTHER_VALID[1],
        sole_signatory=True,
        read_back_confirmed=True,
    )
    db.session.expire_all()
    live = mandates.live_mandate(account.id)
    mandates.cancel(officer, live.id, live.version, "Payer asked by phone")

    everything = json.dumps(
        [[e.summary, e.detail] for e in db.session.scalars(sa.select(ContactEvent))]
        + [[a.before, a.after] for a in db.session.scalars(sa.select(AuditLog))]
        + [[m.subject, m.body, m.recipient] for m in db.session.scalars(sa.select(OutboxMessage))]
    )
    for secret in ("66374958", "88837491", "6637", "8883"):
        assert secret not in everything
    # Sort codes appear in full only in the confirmations; never in the audit or timeline.
    history = json.dumps(
        [e.summary for e in db.session.scalars(sa.select(ContactEvent))]
        + [[a.before, a.after] for a in db.session.scalars(sa.select(AuditLog))]
    )
    for sort_code in ("089999", "08-99-99", "107999", "10-79-99"):
        assert sort_code not in history
    assert "08-**-**" in history


# --- replacing, changing and cancelling ---------------------------------------------------


def _lodge(db, mandate_id):
    mandate = db.session.get(Mandate, mandate_id)
    mandate.status = MandateStatus.ACTIVE
    mandate.lodged_on = TODAY - timedelta(days=10)
    db.session.commit()


def test_a_new_sign_up_replaces_a_lodged_mandate_with_a_cancellation_for_bacs(
    db, payer, officer, synced
):
    account, actor = payer
    first = sign_up_online(account, actor)
    _lodge(db, first.id)
    second = sign_up_online(
        account,
        officer,
        OTHER_VALID,
        source=MandateSource.PHONE,
        read_back_confirmed=True,
        replaces=first.id,
    )
    old, new = the_mandates(db)
    assert old.status == MandateStatus.CANCELLED
    assert old.needs_cancel_instruction is True
    assert new.id == second.id
    assert new.replaces_mandate_id == old.id
    assert new.reference == f"{account.reference}-02"
    assert new.status == MandateStatus.PENDING_SUBMISSION


def test_replacing_a_mandate_never_lodged_just_stops_it(db, payer, synced):
    account, actor = payer
    first = sign_up_online(account, actor)
    sign_up_online(account, actor, OTHER_VALID, replaces=first.id)
    old, new = the_mandates(db)
    assert old.status == MandateStatus.CANCELLED
    assert old.needs_cancel_instruction is False
    assert new.replaces_mandate_id == old.id


def test_a_second_click_on_sign_up_makes_no_second_mandate(db, payer, synced):
    account, actor = payer
    sign_up_online(account, actor)
    with pytest.raises(Conflict):
        sign_up_online(account, actor)  # it saw no live mandate: the first click made one
    assert len(the_mandates(db)) == 1
    assert len(synced) == 1


def test_change_of_bank_details_cancels_the_old_and_a_double_submit_has_one_effect(
    db, payer, synced
):
    account, actor = payer
    first = sign_up_online(account, actor)
    _lodge(db, first.id)
    version = db.session.get(Mandate, first.id).version
    details = {
        "holder_name": "J OBRIEN",
        "sort_code": OTHER_VALID[0],
        "account_number": OTHER_VALID[1],
        "sole_signatory": True,
        "account_id": account.id,
    }
    new = mandates.change_bank_details(actor, first.id, version, **details)
    with pytest.raises(Conflict):
        mandates.change_bank_details(actor, first.id, version, **details)

    old, replacement = the_mandates(db)
    assert len(the_mandates(db)) == 2
    assert old.status == MandateStatus.CANCELLED and old.needs_cancel_instruction is True
    assert replacement.id == new.id
    assert replacement.status == MandateStatus.PENDING_SUBMISSION
    assert replacement.replaces_mandate_id == old.id
    assert replacement.confirmation_message_id is not None
    actions = db.session.scalars(sa.select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions.count("mandate.bank_details_changed") == 1


def test_a_change_with_an_invalid_account_changes_nothing(db, payer, synced):
    account, actor = payer
    first = sign_up_online(account, actor)
    before = counts(db)
    with pytest.raises(MandateRefused):
        mandates.change_bank_details(
            actor,
            first.id,
            db.session.get(Mandate, first.id).version,
            holder_name="J OBRIEN",
            sort_code=INVALID[0],
            account_number=INVALID[1],
            sole_signatory=True,
        )
    assert counts(db) == before
    assert the_mandates(db)[0].status == MandateStatus.PENDING_SUBMISSION


@pytest.mark.parametrize("lodged", [True, False])
def test_cancel_sends_a_0c_only_for_a_lodged_mandate_and_a_second_click_does_nothing(
    db, payer, synced, lodged
):
    account, actor = payer
    mandate = sign_up_online(account, actor)
    if lodged:
        _lodge(db, mandate.id)
    version = db.session.get(Mandate, mandate.id).version
    mandates.cancel(actor, mandate.id, version, "Cancelled online", account_id=account.id)
    with pytest.raises(Conflict):
        mandates.cancel(actor, mandate.id, version, "Cancelled online", account_id=account.id)

    stored = the_mandates(db)[0]
    assert stored.status == MandateStatus.CANCELLED
    assert stored.needs_cancel_instruction is lodged
    assert stored.cancellation_reason == "Cancelled online"
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(AuditLog.action == "mandate.cancelled"))
        == 1
    )
    assert len(synced) == 2  # the sign-up and the one cancellation


def test_someone_elses_mandate_is_not_found(db, payer, synced):
    account, actor = payer
    mandate = sign_up_online(account, actor)
    other = make_account()
    with pytest.raises(NotFound):
        mandates.cancel(actor, mandate.id, 1, "x", account_id=other.id)
    assert the_mandates(db)[0].status == MandateStatus.PENDING_SUBMISSION


def test_a_mandate_change_queues_the_accounts_one_collections_sync(app, monkeypatch):
    from shared.jobs import directdebit as jobs

    queued = []
    monkeypatch.setattr(jobs, "enqueue_sync", lambda ids, **kw: queued.append(list(ids)) or 1)
    assert mandates_jobs.enqueue_sync(7, 12, 3) is True
    assert queued == [[7]]

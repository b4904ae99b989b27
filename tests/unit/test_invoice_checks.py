"""Which invoices are checked before they go out, who may check them, and the draft's
status changes (shared/domain/invoice_checks.py), without a database."""

from __future__ import annotations

import pytest

from shared.domain.invoice_checks import (
    TRANSITIONS,
    CheckRefused,
    DraftStatus,
    Raiser,
    can_move,
    check_move,
    needs_check,
    why_checker_refused,
    why_unchecked_issue_refused,
)

OFFICER = Raiser(staff_id=7, role="officer", invoice_limit_pence=200_000)
SERVICE_USER = Raiser(staff_id=8, role="service_department", invoice_limit_pence=10_000_000)


def test_a_service_department_users_invoice_is_always_checked_however_small():
    assert needs_check(SERVICE_USER, 1) is True
    assert needs_check(SERVICE_USER, 0) is True


def test_an_officers_invoice_up_to_their_limit_needs_no_check():
    assert needs_check(OFFICER, 200_000) is False
    assert needs_check(OFFICER, 199_999) is False


def test_an_officers_invoice_a_penny_above_their_limit_is_checked():
    assert needs_check(OFFICER, 200_001) is True


def test_an_officer_with_no_invoice_limit_has_every_invoice_checked():
    assert needs_check(Raiser(1, "officer", 0), 1) is True


def test_an_officer_who_did_not_raise_the_invoice_may_check_it():
    assert why_checker_refused(checker_id=9, checker_role="officer", raised_by=7) is None
    assert why_checker_refused(checker_id=9, checker_role="team_leader", raised_by=7) is None


def test_nobody_checks_their_own_invoice():
    assert why_checker_refused(checker_id=7, checker_role="team_leader", raised_by=7) == (
        "You raised this invoice, so someone else must check it"
    )


def test_a_service_department_user_never_checks_an_invoice():
    refusal = why_checker_refused(checker_id=9, checker_role="service_department", raised_by=7)
    assert refusal == "Service department users cannot check invoices"


@pytest.mark.parametrize("role", ["admin", "auditor", "nobody"])
def test_roles_without_the_checking_permission_cannot_check(role):
    assert why_checker_refused(9, role, 7) == "You do not have permission to check invoices"


def test_the_raiser_may_issue_their_own_invoice_within_their_limit():
    assert why_unchecked_issue_refused(OFFICER, 7, 150_000) is None


def test_the_raiser_cannot_issue_above_their_limit_without_a_check():
    assert why_unchecked_issue_refused(OFFICER, 7, 250_000) == (
        "This invoice is above your invoice limit, so send it for checking"
    )


def test_a_service_department_user_can_never_issue_unchecked_even_within_a_limit():
    refusal = why_unchecked_issue_refused(SERVICE_USER, 8, 100)
    assert refusal == "Invoices from service departments are checked before they are issued"


def test_someone_else_cannot_issue_an_invoice_unchecked_on_the_raisers_behalf():
    refusal = why_unchecked_issue_refused(OFFICER, 99, 100)
    assert refusal == "Only the person who raised this invoice can issue it without a check"


# Written out from the issue text, not copied from TRANSITIONS.
ALLOWED = {
    ("draft", "awaiting_check"),
    ("draft", "issued"),
    ("draft", "cancelled"),
    ("awaiting_check", "issued"),
    ("awaiting_check", "returned"),
    ("returned", "awaiting_check"),
    ("returned", "cancelled"),
}


@pytest.mark.parametrize("current", list(DraftStatus))
@pytest.mark.parametrize("wanted", list(DraftStatus))
def test_only_the_listed_status_changes_are_allowed(current, wanted):
    assert can_move(current, wanted) is ((current.value, wanted.value) in ALLOWED)


def test_issued_and_cancelled_drafts_are_final():
    assert TRANSITIONS[DraftStatus.ISSUED] == frozenset()
    assert TRANSITIONS[DraftStatus.CANCELLED] == frozenset()


def test_a_refused_change_says_what_the_draft_is_now():
    with pytest.raises(CheckRefused, match="This invoice is issued, so it cannot be issued"):
        check_move(DraftStatus.ISSUED, DraftStatus.ISSUED)
    with pytest.raises(
        CheckRefused, match="This invoice is waiting to be checked, so it cannot be cancelled"
    ):
        check_move(DraftStatus.AWAITING_CHECK, DraftStatus.CANCELLED)


def test_a_returned_invoice_must_go_back_through_the_check_before_it_is_issued():
    assert can_move(DraftStatus.RETURNED, DraftStatus.ISSUED) is False

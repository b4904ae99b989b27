"""Who may approve what, and when a request needs a second person."""

from __future__ import annotations

import pytest

from shared.domain.approvals import (
    REFUND_ROUTES,
    WRITE_OFF_REASONS,
    may_decide,
    needs_approval,
    within_decider_limit,
)


def test_the_write_off_reasons_are_the_six_the_council_uses():
    assert set(WRITE_OFF_REASONS) == {
        "uneconomical",
        "deceased_no_estate",
        "insolvency",
        "statute_barred",
        "vulnerable",
        "other",
    }


def test_refunds_go_back_by_card_bacs_or_cheque():
    assert set(REFUND_ROUTES) == {"card", "bacs", "cheque"}


@pytest.mark.parametrize(
    ("amount", "limit", "needed"),
    [(100, 0, True), (5_000, 5_000, False), (5_001, 5_000, True), (1, 10_000, False)],
)
def test_an_amount_above_the_limit_needs_approval_and_the_limit_itself_does_not(
    amount, limit, needed
):
    assert needs_approval(amount, limit) is needed


def test_a_team_leader_may_decide_someone_elses_request():
    assert may_decide("team_leader", 2, 1)


def test_nobody_decides_their_own_request_not_even_a_team_leader():
    assert not may_decide("team_leader", 2, 2)


@pytest.mark.parametrize("role", ["officer", "admin", "auditor", "nobody"])
def test_only_a_team_leader_may_decide(role):
    assert not may_decide(role, 2, 1)


def test_an_approver_is_held_to_their_own_limit():
    assert within_decider_limit(10_000, 10_000)
    assert not within_decider_limit(10_001, 10_000)

"""The words plan events are told in (shared/services/plans/wording.py), which the
services and the demo data both use."""

from __future__ import annotations

from datetime import date

from shared.demo.plans import PLAN_ID
from shared.domain.schedules import ScheduledInstalment
from shared.services.plans import wording


def test_a_broken_plan_says_how_many_payments_were_missed_in_the_singular_and_plural():
    assert wording.broken_reason(1) == "1 payment missed"
    assert wording.broken_reason(3) == "3 payments missed"


def test_the_demo_placeholder_becomes_the_same_words_the_monitor_writes_for_a_real_plan():
    due = date(2026, 3, 1)
    for words in (
        lambda plan: wording.payment_missed(plan, 2, 1_234, due),
        lambda plan: wording.payment_due_reminder(plan, 2, 1_234, due),
        lambda plan: wording.plan_broken(plan, 50_000, "2 payments missed"),
        lambda plan: wording.plan_completed(plan, 50_000),
    ):
        assert words(PLAN_ID).replace(PLAN_ID, "17") == words(17)
    assert wording.payment_missed(17, 2, 1_234, due) == (
        "Payment plan 17: payment 2 of £12.34 due 01/03/2026 missed"
    )


def test_a_referral_names_the_failed_rules_or_else_the_team_leader():
    assert wording.referred_detail(["Too long", "Too small"]) == (
        "Referred to an officer: Too long; Too small"
    )
    assert wording.referred_detail([]) == "Referred to an officer: a team leader must decide"


def test_the_active_notice_tells_a_card_payer_about_the_pay_link_and_a_direct_debit_payer_not():
    schedule = [
        ScheduledInstalment(1, date(2026, 7, 1), 5_000),
        ScheduledInstalment(2, date(2026, 8, 1), 5_000),
    ]
    card = wording.active_notice(10_000, schedule, "monthly", by_direct_debit=False)
    debit = wording.active_notice(10_000, schedule, "monthly", by_direct_debit=True)
    assert "Your first payment is £50.00 on 1 July 2026, by card" in card.body
    assert "Your first payment is £50.00 on 1 July 2026, by direct debit." in debit.body
    assert "First payment £50.00 on 1 July 2026." in card.sms
    assert wording.summary_words([], "monthly") == "No schedule"

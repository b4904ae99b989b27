"""The pure Direct Debit collection rules (shared/domain/bacs/schedule.py).

Expected dates are worked out by hand from the 2026 England & Wales calendar (Good
Friday 3 April, Easter Monday 6 April, Christmas Friday 25 December, Boxing Day
observed Monday 28 December), not from the code under test.
"""

from __future__ import annotations

from datetime import date

from shared.domain.bacs import schedule as rules
from shared.domain.bacs.schedule import (
    FIRST,
    INSTALMENT,
    INVOICE,
    REGULAR,
    REPRESENTATION,
    Existing,
    MandateFacts,
    NoticeTiming,
    Target,
    Told,
    decide,
)

TODAY = date(2026, 3, 2)  # a Monday
EMAIL = NoticeTiming(TODAY, 10)  # 10 working days after Mon 2 March: Mon 16 March


def run(targets, collections=(), told=None, mandate=MandateFacts(), today=TODAY, timing=EMAIL):
    return decide(
        today=today,
        mandate=mandate,
        targets=list(targets),
        collections=list(collections),
        told=told,
        timing=timing,
    )


def inst(i, due, owed=3000, **kw):
    return Target(INSTALMENT, i, due, owed, **kw)


def scheduled(cid, target, day, amount=3000, code=REGULAR, status="scheduled", kind=INSTALMENT):
    return Existing(cid, kind, target, amount, day, status, code)


def test_a_first_collection_waits_for_the_ten_working_day_notice_and_is_coded_01():
    decision = run([inst(1, date(2026, 3, 5)), inst(2, date(2026, 4, 5))])

    assert [(n.target_id, n.collection_date, n.transaction_code) for n in decision.create] == [
        (1, date(2026, 3, 16), FIRST),  # due 5 March, but notice given 2 March
        (2, date(2026, 4, 7), REGULAR),  # Sun 5 April -> Easter Monday -> Tue 7 April
    ]
    assert decision.notice.kind == "first"
    assert decision.notice.earliest_entry_day == date(2026, 3, 16)
    assert decision.notice.schedule == ((date(2026, 3, 16), 3000), (date(2026, 4, 7), 3000))


def test_a_letter_counts_two_posting_days_before_the_ten_working_days():
    letter = NoticeTiming(date(2026, 3, 4), 10)  # posted Mon 2 March + 2 working days
    decision = run([inst(1, date(2026, 3, 5))], timing=letter)
    assert decision.create[0].collection_date == date(2026, 3, 18)


def test_a_due_date_on_good_friday_is_collected_on_the_tuesday_after_easter():
    decision = run([inst(1, date(2026, 4, 3))])
    assert decision.create[0].collection_date == date(2026, 4, 7)


def test_christmas_and_boxing_day_observed_push_to_the_tuesday():
    decision = run([inst(1, date(2026, 12, 25)), inst(2, date(2026, 12, 28))])
    assert [n.collection_date for n in decision.create] == [date(2026, 12, 29)] * 2


def test_a_month_end_on_a_saturday_is_collected_on_the_monday():
    decision = run([inst(1, date(2026, 10, 31))])  # Saturday
    assert decision.create[0].collection_date == date(2026, 11, 2)


def test_the_same_facts_after_applying_change_nothing():
    first = run([inst(1, date(2026, 3, 20)), inst(2, date(2026, 4, 20))])
    rows = [
        scheduled(10 + i, n.target_id, n.collection_date, n.amount_pence, n.transaction_code)
        for i, n in enumerate(first.create)
    ]
    told = Told(frozenset(first.notice.schedule), first.notice.earliest_entry_day)
    again = run([inst(1, date(2026, 3, 20)), inst(2, date(2026, 4, 20))], rows, told)
    assert again.changes_nothing


def test_an_instalment_paid_by_other_means_has_its_collection_cancelled_without_a_notice():
    rows = [scheduled(10, 1, date(2026, 3, 20), code=FIRST), scheduled(11, 2, date(2026, 4, 20))]
    told = Told(frozenset({(date(2026, 3, 20), 3000), (date(2026, 4, 20), 3000)}), TODAY)
    decision = run([inst(1, date(2026, 3, 20), owed=0), inst(2, date(2026, 4, 20))], rows, told)
    assert decision.cancel == ((10, rules.PAID_OTHERWISE),)
    assert decision.recode == ((11, FIRST),)  # now the first collection under the mandate
    assert decision.notice is None and decision.create == ()


def test_a_part_paid_instalment_is_collected_for_what_it_owes_under_a_new_notice():
    rows = [scheduled(10, 1, date(2026, 3, 20), code=FIRST)]
    told = Told(frozenset({(date(2026, 3, 20), 3000)}), TODAY)
    decision = run([inst(1, date(2026, 3, 20), owed=1000)], rows, told)
    assert decision.cancel == ((10, rules.AMOUNT_CHANGED),)
    assert [(n.amount_pence, n.collection_date) for n in decision.create] == [
        (1000, date(2026, 3, 20))  # the new notice allows 16 March; due 20 March
    ]
    assert decision.notice.kind == "change"


def test_a_scheduled_collection_whose_processing_day_passed_is_rescheduled_with_a_notice():
    # Entry Tue 3 March: processing day Mon 2 March; today Wed 4 March.
    rows = [scheduled(10, 1, date(2026, 3, 3), code=FIRST)]
    told = Told(frozenset({(date(2026, 3, 3), 3000)}), date(2026, 3, 3))
    today = date(2026, 3, 4)
    decision = run(
        [inst(1, date(2026, 3, 3))], rows, told, today=today, timing=NoticeTiming(today, 10)
    )
    assert decision.cancel == ((10, rules.MISSED_FILE),)
    assert decision.create[0].collection_date == date(2026, 3, 18)
    assert decision.create[0].transaction_code == FIRST  # nothing reached Bacs yet
    assert decision.notice.kind == "change"


def test_after_a_collection_reached_bacs_new_ones_are_coded_17():
    rows = [scheduled(10, 1, date(2026, 3, 3), code=FIRST, status="collected")]
    told = Told(frozenset({(date(2026, 3, 3), 3000)}), date(2026, 3, 3))
    decision = run([inst(1, date(2026, 3, 3)), inst(2, date(2026, 4, 3))], rows, told)
    assert [(n.target_id, n.transaction_code) for n in decision.create] == [(2, REGULAR)]


def test_a_stopped_or_cancelled_mandate_cancels_everything_scheduled_and_makes_nothing():
    rows = [
        scheduled(10, 1, date(2026, 3, 20)),
        scheduled(11, 2, date(2026, 4, 20), status="submitted"),
    ]
    stopped = MandateFacts(stop_reason="the Direct Debit instruction was cancelled")
    decision = run([inst(1, date(2026, 3, 20)), inst(3, date(2026, 5, 20))], rows, mandate=stopped)
    assert decision.cancel == ((10, "the Direct Debit instruction was cancelled"),)
    assert decision.create == () and decision.notice is None


def test_a_deceased_payer_has_every_scheduled_collection_cancelled():
    rows = [scheduled(10, 1, date(2026, 3, 20))]
    decision = run([inst(1, date(2026, 3, 20))], rows, mandate=MandateFacts(deceased=True))
    assert decision.cancel == ((10, rules.DECEASED),)
    assert decision.create == ()


def test_breathing_space_keeps_plan_collections_but_starts_no_invoice_collection():
    targets = [inst(1, date(2026, 3, 20)), Target(INVOICE, 7, date(2026, 3, 20), 5000)]
    decision = run(targets, mandate=MandateFacts(breathing_space=True))
    assert [(n.kind, n.target_id) for n in decision.create] == [(INSTALMENT, 1)]


def test_an_ended_plan_or_held_invoice_cancels_and_a_returned_one_is_not_made_again():
    rows = [
        scheduled(10, 1, date(2026, 3, 20)),
        scheduled(11, 7, date(2026, 3, 20), 5000, kind=INVOICE),
    ]
    targets = [
        inst(1, date(2026, 3, 20), stop_reason="payment plan 4 is broken"),
        Target(INVOICE, 7, date(2026, 3, 20), 5000, stop_reason="the invoice is disputed"),
        inst(2, date(2026, 3, 25), returned=True),
    ]
    decision = run(targets, rows)
    assert decision.cancel == (
        (10, "payment plan 4 is broken"),
        (11, "the invoice is disputed"),
    )
    assert decision.create == ()


def test_a_representation_is_left_alone_unless_collection_must_stop():
    rows = [scheduled(10, 1, date(2026, 3, 3), code=REPRESENTATION)]  # processing day passed
    decision = run([inst(1, date(2026, 3, 3), returned=True)], rows, today=date(2026, 3, 4))
    assert decision.changes_nothing


def test_a_new_date_the_payer_was_not_told_needs_a_change_notice_listing_everything():
    rows = [scheduled(10, 1, date(2026, 3, 20), code=FIRST)]
    told = Told(frozenset({(date(2026, 3, 20), 3000)}), TODAY)
    decision = run([inst(1, date(2026, 3, 20)), inst(2, date(2026, 4, 20), 2500)], rows, told)
    assert decision.notice.kind == "change"
    assert decision.notice.schedule == ((date(2026, 3, 20), 3000), (date(2026, 4, 20), 2500))

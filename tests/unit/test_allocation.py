from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.allocation import (
    AllocationError,
    OpenItem,
    allocate_by_default,
    allocate_oldest_first,
    check_explicit,
    fit_to_outstanding,
)

ITEMS = [
    OpenItem(3, date(2026, 3, 1), 500),
    OpenItem(1, date(2026, 1, 1), 1000),
    OpenItem(2, date(2026, 1, 1), 200),
]


def test_oldest_due_invoices_are_settled_first_and_ties_go_by_invoice_id():
    assert allocate_oldest_first(1100, ITEMS) == [(1, 1000), (2, 100)]


def test_an_overpayment_leaves_the_excess_unallocated():
    plan = allocate_oldest_first(2000, ITEMS)
    assert plan == [(1, 1000), (2, 200), (3, 500)]
    assert 2000 - sum(a for _, a in plan) == 300


def test_a_default_allocation_leaves_held_invoices_alone_and_keeps_the_rest_as_credit():
    # Invoice 1 (oldest) is disputed: 2 then 3 are paid and 300p of 1000p is left over.
    plan = allocate_by_default(1000, ITEMS, held={1})
    assert plan == [(2, 200), (3, 500)]
    assert 1000 - sum(a for _, a in plan) == 300


def test_a_default_allocation_pays_the_plans_invoices_first_then_the_oldest():
    # Invoice 3 is due last but is in the plan: it is paid first, then 1 (oldest), then 2.
    assert allocate_by_default(1200, ITEMS, in_plan={3}) == [(3, 500), (1, 700)]
    assert allocate_by_default(1800, ITEMS, in_plan={3}) == [(3, 500), (1, 1000), (2, 200)]


def test_a_held_invoice_in_a_plan_is_still_left_alone():
    assert allocate_by_default(600, ITEMS, held={3}, in_plan={3}) == [(1, 600)]


def test_with_nothing_held_and_no_plan_the_default_is_oldest_first():
    assert allocate_by_default(1100, ITEMS) == allocate_oldest_first(1100, ITEMS)


def test_the_payers_choice_is_kept_as_given():
    assert check_explicit(700, ITEMS, [(3, 500), (2, 200)]) == [(3, 500), (2, 200)]


@pytest.mark.parametrize(
    "requested, message",
    [
        ([(3, 501)], "only 500p outstanding"),
        ([(9, 1)], "nothing outstanding on this account"),
        ([(3, 0)], "more than £0"),
        ([(3, 100), (3, 100)], "more than once"),
        ([(1, 600), (3, 500)], "only 1000p is available"),
    ],
)
def test_impossible_choices_are_refused_with_the_reason(requested, message):
    with pytest.raises(AllocationError, match=message):
        check_explicit(1000, ITEMS, requested)


items_strategy = st.lists(
    st.builds(OpenItem, st.integers(1, 10_000), st.dates(), st.integers(0, 10_000)),
    unique_by=lambda i: i.invoice_id,
    max_size=12,
)


@given(st.integers(0, 100_000), items_strategy)
def test_oldest_first_never_overpays_an_invoice_nor_spends_more_than_available(available, items):
    plan = allocate_oldest_first(available, items)
    outstanding = {i.invoice_id: i.outstanding_pence for i in items}
    assert sum(a for _, a in plan) <= available
    for invoice_id, amount in plan:
        assert 0 < amount <= outstanding[invoice_id]
    # Nothing is left unallocated while an invoice still owes something.
    if sum(a for _, a in plan) < available:
        assert sum(a for _, a in plan) == sum(outstanding.values())


@given(
    st.integers(0, 100_000),
    items_strategy,
    st.frozensets(st.integers(1, 10_000)),
    st.frozensets(st.integers(1, 10_000)),
)
def test_the_default_never_touches_a_held_invoice_and_pays_the_plan_before_anything_else(
    available, items, held, in_plan
):
    plan = allocate_by_default(available, items, held=held, in_plan=in_plan)
    outstanding = {i.invoice_id: i.outstanding_pence for i in items}
    assert not {invoice_id for invoice_id, _ in plan} & held
    assert all(0 < amount <= outstanding[invoice_id] for invoice_id, amount in plan)
    assert sum(a for _, a in plan) <= available
    paid = dict(plan)
    plan_owed = sum(
        i.outstanding_pence for i in items if i.invoice_id in in_plan and i.invoice_id not in held
    )
    if any(i not in in_plan for i in paid):  # money reached the rest only once the plan was paid
        assert sum(a for i, a in paid.items() if i in in_plan) == plan_owed


def test_a_late_payment_for_an_earlier_choice_is_cut_to_what_each_invoice_owes_now():
    # Chosen when 3 owed 500p and 1 owed 1000p; meanwhile 3 was paid down to 200p.
    items = [OpenItem(3, date(2026, 3, 1), 200), OpenItem(1, date(2026, 1, 1), 1000)]
    assert fit_to_outstanding(items, [(3, 500), (1, 400)]) == [(3, 200), (1, 400)]


def test_a_late_payment_for_invoices_since_paid_in_full_keeps_nothing_for_them():
    # Invoice 2 is no longer open (paid or credited): its share stays as account credit.
    assert fit_to_outstanding(ITEMS, [(2, 300), (9, 100)]) == [(2, 200)]
    assert fit_to_outstanding([OpenItem(5, date(2026, 1, 1), 0)], [(5, 100)]) == []


def test_a_late_payment_naming_an_invoice_twice_never_pays_it_more_than_it_owes():
    assert fit_to_outstanding(ITEMS, [(2, 150), (2, 150)]) == [(2, 150), (2, 50)]

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.allocation import (
    AllocationError,
    OpenItem,
    allocate_oldest_first,
    check_explicit,
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

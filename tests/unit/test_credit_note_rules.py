"""What a credit note may take off an invoice's lines, and the VAT it credits
(shared/domain/credit_notes.py). Expected VAT is worked by hand from the line's
charged figures: credited VAT = charged VAT x net credited / charged net, half up."""

from __future__ import annotations

import pytest

from shared.domain.credit_notes import (
    CreditRefused,
    LineCredit,
    LineLeft,
    credit_lines,
    spread,
    vat_credited,
    whole_invoice,
)

# Line 1: 3 x £33.33 = £99.99 at 20% = £20.00 VAT. Line 2: £50.00, no VAT.
LINE_1 = LineLeft(1, 1, "Bin lifts", 9_999, 2_000)
LINE_2 = LineLeft(2, 2, "Licence", 5_000, 0)
LINES = [LINE_1, LINE_2]


def test_the_vat_credited_is_the_lines_vat_in_proportion_rounded_half_up():
    # 2000 x 3333 / 9999 = 666.67 -> 667; 2000 x 100 / 9999 = 20.002 -> 20
    assert vat_credited(LINE_1, 3_333) == 667
    assert vat_credited(LINE_1, 100) == 20


def test_crediting_the_rest_of_a_line_credits_the_rest_of_its_vat_exactly():
    credited = LineLeft(1, 1, "Bin lifts", 9_999, 2_000, 6_666, 1_334)
    assert vat_credited(credited, 3_333) == 666  # not 667: only 666 is left


def test_three_notes_of_a_third_each_credit_exactly_the_vat_charged():
    line, vat_total = LINE_1, 0
    for _ in range(3):
        [credit] = credit_lines([line], {1: 3_333}, 1_000_000)
        vat_total += credit.vat_pence
        line = LineLeft(
            1,
            1,
            "Bin lifts",
            9_999,
            2_000,
            line.credited_net_pence + credit.net_pence,
            line.credited_vat_pence + credit.vat_pence,
        )
    assert (line.net_left, line.vat_left, vat_total) == (0, 0, 2_000)


def test_the_lines_chosen_come_back_in_line_order_with_their_vat():
    credits = credit_lines(LINES, {2: 1_000, 1: 9_999}, 1_000_000)
    assert credits == [LineCredit(1, 9_999, 2_000), LineCredit(2, 1_000, 0)]


def test_a_line_cannot_be_credited_beyond_what_earlier_notes_left_of_it():
    credited = LineLeft(2, 2, "Licence", 5_000, 0, 4_000, 0)
    with pytest.raises(CreditRefused, match=r"Line 2 has £10.00 \(before VAT\) left") as refused:
        credit_lines([LINE_1, credited], {2: 1_001}, 1_000_000)
    assert refused.value.line_id == 2


def test_a_line_not_on_the_invoice_is_refused():
    with pytest.raises(CreditRefused, match="not on this invoice"):
        credit_lines(LINES, {99: 100}, 1_000_000)


def test_nothing_chosen_is_refused():
    with pytest.raises(CreditRefused, match="at least one line"):
        credit_lines(LINES, {1: 0}, 1_000_000)


def test_the_total_cannot_exceed_what_the_invoice_may_still_be_credited():
    # £99.99 + £20.00 VAT = £119.99, but a write-off left only £100.00 creditable.
    with pytest.raises(CreditRefused, match="credits £119.99, .* at most £100.00"):
        credit_lines(LINES, {1: 9_999}, 10_000)


def test_the_whole_invoice_is_everything_left_on_every_line():
    part = LineLeft(2, 2, "Licence", 5_000, 0, 5_000, 0)
    assert whole_invoice([LINE_1, part]) == {1: 9_999}


def test_one_sum_spread_over_the_lines_adds_up_and_keeps_each_lines_vat_share():
    # Left: line 1 £119.99 (£99.99 + £20.00), line 2 £50.00; £85.00 is half of £169.99
    # near enough: 8500 x 11999 / 16999 = 5999.8 -> 5999 (+1 by largest remainder) and
    # 8500 x 5000 / 16999 = 2500.1 -> 2500.
    credits = spread(LINES, 8_500)
    assert sum(c.total_pence for c in credits) == 8_500
    first, second = credits
    assert first.total_pence == 6_000 and second.total_pence == 2_500
    # Line 1's £60.00 split 9999:2000 -> net 6000 x 9999 / 11999 = 4999.9 -> 5000.
    assert (first.net_pence, first.vat_pence) == (5_000, 1_000)
    assert (second.net_pence, second.vat_pence) == (2_500, 0)


def test_spreading_everything_left_credits_every_line_in_full():
    assert spread(LINES, 16_999) == [LineCredit(1, 9_999, 2_000), LineCredit(2, 5_000, 0)]


def test_spreading_more_than_is_left_is_refused():
    with pytest.raises(CreditRefused, match="only £169.99 left"):
        spread(LINES, 17_000)

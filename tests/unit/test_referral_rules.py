"""Which debts may be referred to an enforcement agent or legal, why not, and the row
the pack carries."""

from __future__ import annotations

import ast
from datetime import date, timedelta
from pathlib import Path

import pytest

from shared.domain import referrals as rules
from shared.domain.holds import HoldInForce

TODAY = date(2026, 3, 27)


def debt(number="INV1", *, invoice_id=1, outstanding=10_000, stage="final_demand", **kw):
    return rules.Debt(
        invoice_id=invoice_id,
        number=number,
        due_date=kw.pop("due_date", TODAY - timedelta(days=60)),
        outstanding_pence=outstanding,
        recovery_stage=stage,
        **kw,
    )


def debtor(*holds, deceased=False, breathing_space=False):
    return rules.Debtor(deceased=deceased, in_breathing_space=breathing_space, holds=holds)


def hold(kind, *, invoice_id=None, starts=TODAY - timedelta(days=1), expires=None, lifted=False):
    return HoldInForce(kind, invoice_id, starts, expires, lifted)


def test_an_overdue_debt_with_nothing_in_the_way_may_be_referred():
    assert rules.referral_problems([debt()], debtor(), TODAY) == []


def test_nothing_chosen_is_refused():
    assert rules.referral_problems([], debtor(), TODAY) == [
        "Select at least one invoice with something outstanding to refer."
    ]


def test_a_deceased_debtor_is_refused_once_for_the_whole_account_saying_why():
    problems = rules.referral_problems(
        [debt("A"), debt("B", invoice_id=2)], debtor(deceased=True), TODAY
    )

    assert len(problems) == 1
    assert "deceased" in problems[0]


def test_a_deceased_hold_refuses_like_the_flag():
    [problem] = rules.referral_problems([debt()], debtor(hold("deceased")), TODAY)

    assert "deceased" in problem


def test_breathing_space_on_the_account_refuses_every_debt():
    [problem] = rules.referral_problems([debt()], debtor(breathing_space=True), TODAY)

    assert "Breathing Space" in problem


def test_breathing_space_on_one_invoice_refuses_that_invoice_only():
    bs = hold("breathing_space", invoice_id=2)

    assert rules.why_not_referable(debt("A", invoice_id=1), debtor(bs), TODAY) is None
    assert rules.why_not_referable(debt("B", invoice_id=2), debtor(bs), TODAY) == (
        "Invoice B is in Breathing Space and cannot be referred."
    )


def test_a_dispute_hold_refuses_naming_the_hold_and_its_end():
    dispute = hold("dispute", expires=TODAY + timedelta(days=10))

    assert rules.why_not_referable(debt("INV7"), debtor(dispute), TODAY) == (
        "Invoice INV7 is on a dispute hold until 6 April 2026 and cannot be referred."
    )


@pytest.mark.parametrize(
    "past_or_lifted",
    [
        hold("dispute", expires=TODAY - timedelta(days=1)),
        hold("query", expires=TODAY + timedelta(days=5), lifted=True),
        hold("promise_to_pay", starts=TODAY + timedelta(days=1), expires=TODAY + timedelta(days=9)),
    ],
)
def test_a_hold_that_has_ended_been_lifted_or_not_started_does_not_stop_a_referral(past_or_lifted):
    assert rules.why_not_referable(debt(), debtor(past_or_lifted), TODAY) is None


def test_a_debt_already_referred_is_refused_saying_where_it_went():
    assert rules.why_not_referable(debt(stage="referred_legal"), debtor(), TODAY) == (
        "Invoice INV1 has already been referred to legal."
    )
    assert "enforcement agents" in rules.why_not_referable(
        debt(stage="referred_enforcement"), debtor(), TODAY
    )


def test_a_paid_debt_has_nothing_to_refer():
    assert rules.why_not_referable(debt(outstanding=0), debtor(), TODAY) == (
        "Invoice INV1 has nothing outstanding to refer."
    )


def test_a_debt_in_an_active_arrangement_is_refused():
    assert "active arrangement" in rules.why_not_referable(
        debt(in_active_arrangement=True), debtor(), TODAY
    )


def test_each_refused_debt_is_named_and_the_referable_ones_are_not():
    problems = rules.referral_problems(
        [debt("A", invoice_id=1), debt("B", invoice_id=2, stage="referred_legal")],
        debtor(),
        TODAY,
    )

    assert problems == ["Invoice B has already been referred to legal."]


@pytest.mark.parametrize(
    ("pence", "written"),
    [(0, "0.00"), (5, "0.05"), (12_345, "123.45"), (123_456_789, "1234567.89"), (-250, "-2.50")],
)
def test_pounds_have_two_decimal_places_and_no_symbol_or_commas(pence, written):
    assert rules.pounds(pence) == written


def test_pounds_refuse_anything_but_integer_pence():
    with pytest.raises(TypeError):
        rules.pounds(1.5)


def test_the_pack_row_has_the_fixed_columns_in_order_and_totals_the_debts():
    party = rules.PackParty(
        reference="T00000001",
        name="Mrs Jane Archer",
        address_lines=["1 High Street", None, "Ambridge", "Borsetshire"],
        postcode="AB1 2CD",
        email="jane@example.com",
        phone=None,
    )
    newer = debt("INV2", invoice_id=2, outstanding=2_550, due_date=date(2026, 2, 1))
    older = debt("INV1", invoice_id=1, outstanding=10_000, due_date=date(2025, 12, 1))

    row = rules.pack_row(
        party, [newer, older], destination=rules.LEGAL, referred_on=TODAY, officer="Sam Officer"
    )

    assert tuple(row) == rules.PACK_COLUMNS
    assert row == {
        "account_reference": "T00000001",
        "debtor_name": "Mrs Jane Archer",
        "address": "1 High Street, Ambridge, Borsetshire",
        "postcode": "AB1 2CD",
        "email": "jane@example.com",
        "phone": "",
        "invoice_numbers": "INV1;INV2",
        "amount_referred_gbp": "125.50",
        "oldest_due_date": "2025-12-01",
        "destination": "legal",
        "referral_date": "2026-03-27",
        "referring_officer": "Sam Officer",
    }


def test_the_pack_row_refuses_an_unknown_destination():
    party = rules.PackParty("T1", "A", [], "", None, None)
    with pytest.raises(ValueError):
        rules.pack_row(party, [debt()], destination="bailiff", referred_on=TODAY, officer="x")


# --- wording and edges pinned by mutation testing (docs/mutation-testing.md) ---------------


def test_a_deceased_debtor_is_refused_with_the_officers_next_step():
    expected = (
        "The debtor is recorded as deceased, so nothing can be referred: "
        "deal with the estate instead."
    )
    assert rules.why_not_referable(debt(), debtor(deceased=True), TODAY) == expected
    assert rules.referral_problems([debt()], debtor(hold("deceased")), TODAY) == [expected]


def test_an_account_wide_breathing_space_hold_refuses_like_the_accounts_own_dates():
    expected = (
        "The debtor is in Breathing Space, so nothing can be referred: "
        "no enforcement action is allowed until it ends."
    )
    assert rules.why_not_referable(debt(), debtor(hold("breathing_space")), TODAY) == expected
    assert rules.referral_problems([debt()], debtor(breathing_space=True), TODAY) == [expected]


def test_a_deceased_hold_on_one_invoice_refuses_that_invoice_saying_the_debtor_died():
    died = hold("deceased", invoice_id=1)
    assert rules.why_not_referable(debt("A", invoice_id=1), debtor(died), TODAY) == (
        "Invoice A is on hold because the debtor has died."
    )


def test_a_hold_with_no_end_date_is_named_without_one():
    assert rules.why_not_referable(debt("INV7"), debtor(hold("dispute")), TODAY) == (
        "Invoice INV7 is on a dispute hold and cannot be referred."
    )


def test_a_hold_kind_of_two_words_is_written_as_words():
    promise = hold("promise_to_pay", expires=date(2026, 4, 3))
    assert rules.why_not_referable(debt("INV7"), debtor(promise), TODAY) == (
        "Invoice INV7 is on a promise to pay hold until 3 April 2026 and cannot be referred."
    )


def test_the_hold_named_is_the_one_covering_this_invoice_not_anothers_or_an_ended_one():
    others = (
        hold("dispute", invoice_id=2, expires=TODAY + timedelta(days=3)),
        hold("dispute", invoice_id=1, expires=TODAY - timedelta(days=1)),
        hold("query", invoice_id=1, expires=TODAY + timedelta(days=5)),
    )
    assert rules.why_not_referable(debt("A", invoice_id=1), debtor(*others), TODAY) == (
        "Invoice A is on a query hold until 1 April 2026 and cannot be referred."
    )


def test_a_debt_owing_a_single_penny_may_still_be_referred():
    assert rules.why_not_referable(debt(outstanding=1), debtor(), TODAY) is None


def test_a_debt_in_an_active_arrangement_is_refused_saying_what_to_do_first():
    assert rules.why_not_referable(debt(in_active_arrangement=True), debtor(), TODAY) == (
        "Invoice INV1 is covered by an active arrangement: cancel or break the arrangement first."
    )


def test_the_chosen_debts_are_judged_on_the_day_given():
    dispute = hold("dispute", invoice_id=1, expires=TODAY + timedelta(days=2))
    chosen = [debt("A", invoice_id=1)]
    assert rules.referral_problems(chosen, debtor(dispute), TODAY) == [
        "Invoice A is on a dispute hold until 29 March 2026 and cannot be referred."
    ]
    assert rules.referral_problems(chosen, debtor(dispute), TODAY + timedelta(days=3)) == []


def test_the_pack_refuses_non_pence_amounts_and_an_empty_referral_saying_why():
    with pytest.raises(TypeError, match="^money must be integer pence$"):
        rules.pounds(True)
    party = rules.PackParty("T1", "A", [], "", None, None)
    with pytest.raises(ValueError, match="^a referral needs at least one debt$"):
        rules.pack_row(party, [], destination=rules.LEGAL, referred_on=TODAY, officer="x")
    with pytest.raises(ValueError, match="^unknown destination 'bailiff'$"):
        rules.pack_row(party, [debt()], destination="bailiff", referred_on=TODAY, officer="x")


def test_a_pack_row_without_an_email_leaves_the_column_empty():
    party = rules.PackParty("T1", "A", ["1 High St"], "AB1 2CD", None, "01632 960000")
    row = rules.pack_row(party, [debt()], destination=rules.LEGAL, referred_on=TODAY, officer="x")
    assert (row["email"], row["phone"]) == ("", "01632 960000")


def test_the_domain_module_imports_neither_flask_nor_sqlalchemy():
    tree = ast.parse(Path(rules.__file__).read_text())
    imported = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not imported & {"flask", "sqlalchemy", "werkzeug"}

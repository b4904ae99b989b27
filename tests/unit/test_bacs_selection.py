"""What goes in a processing day's file and what is held back, and why (pure rules).

Processing day Thursday 18 June 2026: input day Wednesday 17th, entry day Friday 19th
(worked out by hand from a calendar: no bank holiday near)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from shared.domain.bacs import selection

D = date(2026, 6, 18)
CYCLE = selection.cycle_for(D)
ENTRY = date(2026, 6, 19)

DUE = selection.DueCollection(
    collection_id=1,
    account_id=10,
    account_reference="A00001234",
    mandate_reference="A00001234-01",
    mandate_status="active",
    mandate_lodged_on=date(2026, 6, 10),
    collections_stopped_reason=None,
    notice_earliest_entry_day=date(2026, 6, 19),
    amount_pence=2_500,
    transaction_code="17",
    collection_date=ENTRY,
)


def test_the_cycle_of_a_processing_day_is_input_the_day_before_and_entry_the_day_after():
    assert (CYCLE.input_day, CYCLE.processing_day, CYCLE.entry_day) == (
        date(2026, 6, 17),
        D,
        ENTRY,
    )


@pytest.mark.parametrize(
    ("day", "why"),
    [(date(2026, 6, 20), "a Saturday"), (date(2026, 12, 25), "Christmas Day")],
)
def test_a_day_bacs_does_not_work_is_refused_with_the_reason(day, why):
    with pytest.raises(selection.NotAWorkingDay, match=why):
        selection.cycle_for(day)


def test_a_collection_on_an_active_mandate_lodged_before_the_day_with_notice_goes_in():
    assert selection.decide(DUE, CYCLE) is None


def test_a_notice_that_allows_exactly_the_entry_day_is_in_time():
    assert selection.decide(replace(DUE, notice_earliest_entry_day=ENTRY), CYCLE) is None


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        (
            {"mandate_status": "pending_submission", "mandate_lodged_on": None},
            selection.HoldReason.NOT_LODGED,
            "has not gone to Bacs",
        ),
        (
            {"mandate_status": "submitted", "mandate_lodged_on": date(2026, 6, 17)},
            selection.HoldReason.NOT_LODGED,
            "not yet released",
        ),
        (
            {"mandate_lodged_on": D},
            selection.HoldReason.LODGED_TOO_LATE,
            "before the processing day",
        ),
        (
            {"notice_earliest_entry_day": date(2026, 6, 22)},
            selection.HoldReason.NOTICE_TOO_LATE,
            "allows collection from 22 June 2026",
        ),
        ({"notice_earliest_entry_day": None}, selection.HoldReason.NO_NOTICE, "No advance"),
        (
            {"collections_stopped_reason": "Advance notice disputed (ADDACS D)"},
            selection.HoldReason.STOPPED,
            "Advance notice disputed",
        ),
        ({"mandate_status": "cancelled"}, selection.HoldReason.MANDATE_ENDED, "cancelled"),
    ],
)
def test_a_collection_that_cannot_be_taken_is_held_back_with_its_reason(change, reason, words):
    held = selection.decide(replace(DUE, **change), CYCLE)
    assert held is not None
    assert held.reason == reason
    assert words in held.words


def test_a_collection_whose_entry_day_has_passed_missed_its_file():
    assert selection.is_missed(replace(DUE, collection_date=date(2026, 6, 18)), CYCLE)
    assert not selection.is_missed(DUE, CYCLE)


@pytest.mark.parametrize(
    ("status", "needs_cancel", "cancel_file", "code"),
    [
        ("pending_submission", False, None, "0N"),
        ("cancelled", True, None, "0C"),
        ("cancelled", True, 7, None),  # its 0C is in a file already
        ("cancelled", False, None, None),  # cancelled by the payer's bank: no 0C
        ("active", False, None, None),
        ("submitted", False, None, None),
    ],
)
def test_instructions_go_for_new_mandates_and_our_cancellations(
    status, needs_cancel, cancel_file, code
):
    assert selection.instruction_for(status, needs_cancel, cancel_file) == code


def test_the_summary_counts_by_code_and_reason_and_lists_what_was_held():
    summary = selection.Summary(CYCLE)
    summary.add("0N", 0)
    summary.add("17", 2_500)
    summary.add("17", 1_000)
    late = replace(DUE, collection_id=2, notice_earliest_entry_day=date(2026, 7, 1))
    summary.hold(late, selection.decide(late, CYCLE))
    summary.miss(replace(DUE, collection_id=3, collection_date=date(2026, 6, 1)))

    data = summary.as_json(contra_pence=3_500)
    assert data["by_code"] == {
        "0N": {"count": 1, "total_pence": 0},
        "17": {"count": 2, "total_pence": 3_500},
        "99": {"count": 1, "total_pence": 3_500},
    }
    assert data["held_back_count"] == 1 and data["held_back_total_pence"] == 2_500
    assert data["held_back_by_reason"] == {"notice_too_late": 1}
    assert data["held_back"][0]["collection_id"] == 2
    assert "1 July 2026" in data["held_back"][0]["why"]
    assert data["missed_count"] == 1 and "missed its file" in data["missed"][0]["why"]

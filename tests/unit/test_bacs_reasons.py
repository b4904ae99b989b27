"""What each Bacs reason asks for (DOMAIN.md, Bacs)."""

from __future__ import annotations

import pytest

from shared.domain.bacs.reasons import treatment


@pytest.mark.parametrize("code", list("0123456789AB"))
def test_every_returned_debit_is_reversed(code):
    assert treatment("arudd", code).reverse_payment


def test_only_refer_to_payer_is_presented_again():
    assert [c for c in "0123456789AB" if treatment("arudd", c).represent] == ["0"]


def test_a_payer_who_died_is_not_written_to_and_goes_to_an_officer():
    for kind in ("arudd", "addacs"):
        t = treatment(kind, "2")
        assert t.deceased and t.needs_officer and not t.tell_payer and t.cancel_mandate
        assert "deceased hold" in t.officer_task


def test_cancellations_reported_by_the_bank_send_no_0c():
    cancelling = [("arudd", c) for c in "1356AB"] + [("addacs", c) for c in "012B"]
    for kind, code in cancelling:
        t = treatment(kind, code)
        assert t.cancel_mandate and not t.send_cancel_instruction, (kind, code)


def test_addacs_3_lodges_a_new_instruction_but_c_does_not():
    assert treatment("addacs", "3").update_details and treatment("addacs", "3").new_instruction
    assert treatment("addacs", "C").update_details and not treatment("addacs", "C").new_instruction


def test_a_disputed_advance_notice_stops_collections_and_goes_to_an_officer():
    for kind, code in (("addacs", "D"), ("arudd", "4")):
        t = treatment(kind, code)
        assert t.stop_collections and t.needs_officer and not t.cancel_mandate


def test_an_auddis_rejection_fails_the_mandate_tells_the_payer_and_routes():
    t = treatment("auddis", "5")
    assert t.fail_mandate and t.tell_payer and t.needs_officer
    assert "No account" in t.words


def test_an_indemnity_claim_reverses_cancels_with_a_0c_and_routes():
    t = treatment("ddic", "DDIC")
    assert t.reverse_payment and t.cancel_mandate and t.send_cancel_instruction and t.needs_officer
    assert not treatment("ddic", "DDIC", claim_cancelled=True).reverse_payment


def test_a_code_we_do_not_know_goes_to_an_officer_and_a_return_is_still_reversed():
    assert treatment("addacs", "Z").needs_officer
    unknown_return = treatment("arudd", "?")
    assert unknown_return.needs_officer and unknown_return.reverse_payment

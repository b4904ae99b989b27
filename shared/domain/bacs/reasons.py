"""What each reason in a Bacs report means for us, and what to do about it (DOMAIN.md,
Bacs). Pure: the service (shared/services/directdebit/returns.py) carries it out.

A returned debit (ARUDD) is always reversed on the ledger: the money did not come.
The payer is told, except when their bank says they have died (the estate is dealt
with by an officer, and no message goes to a dead person's address). Cancellations
reported by the payer's bank (ARUDD 1/3/5/6/A/B, ADDACS 0/1/2/B) cancel the mandate
without a 0C: the bank has cancelled the instruction already. An indemnity claim is
our cancellation, so it does send a 0C when the mandate had been lodged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Treatment:
    words: str  # the reason in words, for the timeline, the queue and the payer
    reverse_payment: bool = False
    tell_payer: bool = False
    represent: bool = False  # ARUDD 0: collect again once, within a month
    cancel_mandate: bool = False
    send_cancel_instruction: bool = False  # a 0C (only for a cancellation we make)
    update_details: bool = False  # ADDACS 3/C/E: the payer's new bank details
    new_instruction: bool = False  # ADDACS 3: back to pending_submission, a new 0N
    stop_collections: bool = False  # advance notice disputed: until an officer says
    deceased: bool = False  # suppress contact, an officer confirms the death
    fail_mandate: bool = False  # AUDDIS: the instruction was never set up
    needs_officer: bool = False
    officer_task: str | None = None  # what the officer is asked to do


_RETURNED = dict(reverse_payment=True, tell_payer=True)
_BANK_CANCELLED = dict(reverse_payment=True, tell_payer=True, cancel_mandate=True)

ARUDD = {
    "0": Treatment(
        "Refer to payer: the payer's bank did not pay (usually not enough money)",
        represent=True,
        **_RETURNED,
    ),
    "1": Treatment("Instruction cancelled by the payer", **_BANK_CANCELLED),
    "2": Treatment(
        "Payer deceased",
        reverse_payment=True,
        cancel_mandate=True,
        deceased=True,
        needs_officer=True,
        officer_task="Confirm the death and place a deceased hold; deal with the estate",
    ),
    "3": Treatment("Account transferred to another bank", **_BANK_CANCELLED),
    "4": Treatment(
        "Advance notice disputed by the payer",
        stop_collections=True,
        needs_officer=True,
        officer_task="Contact the payer about the advance notice before collecting again",
        **_RETURNED,
    ),
    "5": Treatment(
        "No account (or wrong account type)",
        needs_officer=True,
        officer_task="Ask the payer for correct bank details or another way to pay",
        **_BANK_CANCELLED,
    ),
    "6": Treatment(
        "No instruction held by the payer's bank",
        needs_officer=True,
        officer_task="Check the mandate was lodged; ask the payer to set it up again",
        **_BANK_CANCELLED,
    ),
    "7": Treatment(
        "Amount differs from the advance notice",
        stop_collections=True,
        needs_officer=True,
        officer_task="Send a correct advance notice before collecting again",
        **_RETURNED,
    ),
    "8": Treatment(
        "Amount not yet due",
        needs_officer=True,
        officer_task="Check the collection date against the advance notice",
        **_RETURNED,
    ),
    "9": Treatment(
        "Presentation overdue",
        needs_officer=True,
        officer_task="Agree with the payer when to collect this amount",
        **_RETURNED,
    ),
    "A": Treatment(
        "Service user differs from the instruction",
        needs_officer=True,
        officer_task="Check the mandate's service user; ask the payer to set it up again",
        **_BANK_CANCELLED,
    ),
    "B": Treatment("Account closed", **_BANK_CANCELLED),
}

ADDACS = {
    "0": Treatment("Instruction cancelled - refer to payer", tell_payer=True, cancel_mandate=True),
    "1": Treatment("Instruction cancelled by the payer", tell_payer=True, cancel_mandate=True),
    "2": Treatment(
        "Payer deceased",
        cancel_mandate=True,
        deceased=True,
        needs_officer=True,
        officer_task="Confirm the death and place a deceased hold; deal with the estate",
    ),
    "3": Treatment(
        "Account transferred to a new bank: new details, new instruction to lodge",
        update_details=True,
        new_instruction=True,
    ),
    "B": Treatment("Account closed", tell_payer=True, cancel_mandate=True),
    "C": Treatment("Account transferred to a different branch: new details", update_details=True),
    "D": Treatment(
        "Advance notice disputed by the payer",
        stop_collections=True,
        needs_officer=True,
        officer_task="Resolve the dispute with the payer, then restart collections",
    ),
    "E": Treatment("Instruction amended by the payer's bank", update_details=True),
    "R": Treatment(
        "Instruction reinstated by the payer's bank",
        needs_officer=True,
        officer_task="Decide with the payer whether to collect under this mandate again",
    ),
}

AUDDIS_TASK = "Contact the payer: the instruction was not set up; agree another way to pay"

DDIC = Treatment(
    "Indemnity claim under the Direct Debit Guarantee",
    reverse_payment=True,
    cancel_mandate=True,
    send_cancel_instruction=True,
    needs_officer=True,
    officer_task="Review the claim (challenge it within the time allowed if it is wrong)",
)
DDIC_CANCELLED = Treatment(
    "Indemnity claim withdrawn by the paying bank",
    needs_officer=True,
    officer_task="Check the claimed money came back and whether to collect again",
)


def treatment(kind: str, reason_code: str, *, claim_cancelled: bool = False) -> Treatment:
    """What a report of `kind` ("arudd", "addacs", "auddis", "ddic") giving
    `reason_code` asks us to do; a code we do not know goes to an officer."""
    code = (reason_code or "").strip().upper()
    if kind == "ddic":
        return DDIC_CANCELLED if claim_cancelled else DDIC
    if kind == "auddis":
        from shared.domain.bacs.reports_messaging import AUDDIS_WORDS

        words = AUDDIS_WORDS.get(code, f"reason {code}")
        return Treatment(
            f"Instruction rejected (AUDDIS): {words}",
            tell_payer=True,
            fail_mandate=True,
            needs_officer=True,
            officer_task=AUDDIS_TASK,
        )
    table = ARUDD if kind == "arudd" else ADDACS if kind == "addacs" else {}
    found = table.get(code)
    if found is not None:
        return found
    unknown = Treatment(
        f"A reason the service does not recognise ({code or 'none'})",
        needs_officer=True,
        officer_task="Read the bank's words and act on this by hand",
    )
    if kind == "arudd":
        # Whatever the reason, a returned debit did not pay: reverse it.
        return Treatment(
            unknown.words,
            reverse_payment=True,
            needs_officer=True,
            officer_task=unknown.officer_task,
        )
    return unknown

"""What the payer is told when Bacs reports on their Direct Debit, in the words of
each channel (shared/services/notifications.py picks the channel). Each message has a
dedupe key, so a report imported twice, or two reports naming the same return, tell
the payer once."""

from __future__ import annotations

from datetime import date

from flask import current_app

from shared.models import MessagePurpose
from shared.money import format_gbp
from shared.services.notifications import Message


def _contact() -> str:
    return f"call us on {current_app.config['COUNCIL_PHONE']}"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def returned(
    *, amount_pence: int, due: date, words: str, cancelled: bool, again_on: date | None
) -> Message:
    """A payment came back unpaid; perhaps it will be collected again (the message is
    then the advance notice of that collection)."""
    amount = format_gbp(amount_pence)
    lines = [
        f"Your bank returned the Direct Debit payment of {amount} due on {_day(due)} "
        f"unpaid. The reason your bank gave: {words}."
    ]
    if again_on is not None:
        lines.append(
            f"We will collect {amount} again by Direct Debit on {_day(again_on)}. Please make "
            "sure the money is in your account. If you would rather pay another way, "
            f"{_contact()} before then."
        )
        sms = (
            f"Your Direct Debit of {amount} due {due:%d/%m/%Y} was returned unpaid. We will "
            f"collect it again on {again_on:%d/%m/%Y}. To pay another way, {_contact()}."
        )
        return Message(
            "dd_payment_represented",
            "Your Direct Debit payment was returned",
            "\n\n".join(lines),
            sms,
        )
    if cancelled:
        lines.append("Your bank has also cancelled the Direct Debit, so we cannot collect again.")
    lines.append(
        f"You still owe this amount. To pay it, or to set up another way to pay, {_contact()}."
    )
    sms = (
        f"Your Direct Debit of {amount} due {due:%d/%m/%Y} was returned unpaid by your bank. "
        f"You still owe it: {_contact()}."
    )
    # It asks the payer to pay: a collection message (not in Breathing Space, capped).
    return Message(
        "dd_payment_returned",
        "Your Direct Debit payment was returned",
        "\n\n".join(lines),
        sms,
        purpose=MessagePurpose.COLLECTION,
    )


def cancelled(*, reference: str, words: str) -> Message:
    """The payer's bank cancelled the Direct Debit (ADDACS)."""
    body = (
        f"Your bank has told us that your Direct Debit to us (reference {reference}) has been "
        f"cancelled. The reason your bank gave: {words}.\n\nWe cannot take any more payments "
        f"by this Direct Debit. Anything you owe is still due. To set up a new Direct Debit or "
        f"another way to pay, {_contact()}."
    )
    sms = (
        f"Your bank has cancelled your Direct Debit to us (ref {reference}). Anything you owe "
        f"is still due: {_contact()}."
    )
    return Message("dd_mandate_cancelled", "Your Direct Debit has been cancelled", body, sms)


def rejected(*, reference: str, words: str) -> Message:
    """The payer's bank would not set up the Direct Debit (AUDDIS)."""
    body = (
        f"Your bank could not set up your Direct Debit to us (reference {reference}). The "
        f"reason your bank gave: {words}.\n\nNo payments will be taken by Direct Debit. "
        f"Please check your bank details, then {_contact()} to set it up again or to pay "
        "another way."
    )
    sms = (
        f"Your bank could not set up your Direct Debit to us (ref {reference}). Please "
        f"{_contact()}."
    )
    return Message("dd_instruction_rejected", "Your Direct Debit could not be set up", body, sms)


def returned_key(collection_id: int) -> str:
    return f"dd-returned:{collection_id}"


def cancelled_key(mandate_id: int) -> str:
    return f"dd-cancelled:{mandate_id}"


def rejected_key(mandate_id: int) -> str:
    return f"dd-rejected:{mandate_id}"

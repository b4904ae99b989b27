"""The words a payment plan's events are told in: timeline entries, decision reasons and
the notices sent to the debtor.

Pure functions, values in and text out (no database, no Flask), so the services that
make the events (commands.py, shared/services/plan_monitor.py) and the demo data
(shared/demo/plans.py), which writes the same rows without calling the services, say
the same thing in the same words. Change a sentence here and both change.

`plan_id` is the plan's id; the demo, which learns the id only when it writes the row,
passes a placeholder it fills in then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from shared.domain import schedules
from shared.money import format_gbp

# How often, as the portal's questions and check page say it (keyed by Frequency's values).
FREQUENCY_WORDS = {
    "weekly": "weekly",
    "fortnightly": "fortnightly",
    "four_weekly": "every four weeks",
    "monthly": "monthly",
}

# Why a plan became active or ended: its decision or end reason, also in the audit row.
APPROVED_AUTOMATICALLY = "Approved automatically"
APPROVED_BY_OFFICER = "Approved by an officer"
COUNTER_OFFER_ACCEPTED = "Counter-offer accepted by the debtor"
COUNTER_OFFER_DECLINED = "Counter-offer declined by the debtor"
PAID_IN_FULL = "Paid in full"

# The timeline's detail for an approval no officer made, and for a declined offer.
APPROVED_AUTOMATICALLY_DETAIL = "Approved automatically: every policy rule passed"
COUNTER_OFFER_DECLINED_DETAIL = "The debts are no longer in a plan"

# The timeline's detail when the monitor's notice went (or could not go) to the debtor.
MISSED_REMINDER_SENT = "Missed-payment reminder sent"
DUE_REMINDER_SENT = "Sent with a link to pay online"
NO_WAY_TO_REACH = "No reminder sent: no mobile, email or postal address on file"
# A letter is not sent until the print batch carrying it is released (then its own
# "Letter posted" line is written): until then it is only queued.
REMINDER_QUEUED = "Reminder letter queued for the print batch"


def reminder_detail(written: object | None, sent_words: str) -> str:
    """The timeline's detail for a reminder notice: `written` is its outbox row (None
    when there was no way to reach the debtor); a letter is queued, not sent."""
    if written is None:
        return NO_WAY_TO_REACH
    if str(getattr(written, "channel", "")) == "letter":
        return REMINDER_QUEUED
    return sent_words


@dataclass(frozen=True)
class Notice:
    """A notice's words for each channel (shared/services/notifications.Message)."""

    subject: str
    body: str  # email and letter
    sms: str


# --- the terms in words ----------------------------------------------------------------------


def schedule_words(schedule: Sequence[schedules.ScheduledInstalment], frequency: str) -> str:
    """The terms in one line, e.g. "12 monthly payments of £50.00 from 1 March 2026"."""
    return schedules.describe_schedule(schedule, frequency)


def summary_words(schedule: Sequence[schedules.ScheduledInstalment], frequency: str) -> str:
    """The terms in one line for an officer's list, where a plan may have no schedule."""
    return schedule_words(schedule, frequency) if schedule else "No schedule"


def first_payment_words(schedule: Sequence[schedules.ScheduledInstalment]) -> str:
    first = schedule[0]
    return f"{format_gbp(first.amount_pence)} on {first.due_date:%-d %B %Y}"


# --- proposing and deciding (the timeline) ---------------------------------------------------


def statement_sent(disposable_pence: int) -> str:
    return (
        "Income and expenditure statement sent: disposable income "
        f"{format_gbp(disposable_pence)} a month"
    )


def plan_set_up(total_pence: int, words: str) -> str:
    return f"Payment plan of {format_gbp(total_pence)} set up: {words}"


def plan_proposed(total_pence: int, words: str) -> str:
    return f"Payment plan of {format_gbp(total_pence)} proposed: {words}"


def referred_detail(failed_rules: Sequence[str]) -> str:
    """Why a proposal went to an officer: the rules it failed, or the total alone."""
    return "Referred to an officer: " + ("; ".join(failed_rules) or "a team leader must decide")


def plan_approved(total_pence: int) -> str:
    return f"Payment plan of {format_gbp(total_pence)} approved"


def plan_rejected(total_pence: int) -> str:
    return f"Payment plan of {format_gbp(total_pence)} rejected"


def rejected_end_reason(reason: str) -> str:
    return f"Rejected: {reason}"


def counter_offer_made(words: str) -> str:
    return f"Payment plan counter-offer made: {words}"


def counter_offer_accepted(total_pence: int) -> str:
    return f"Payment plan counter-offer accepted ({format_gbp(total_pence)})"


def counter_offer_declined(total_pence: int) -> str:
    return f"Payment plan counter-offer declined ({format_gbp(total_pence)})"


def broken_plan_reviewed(total_pence: int) -> str:
    return f"Broken payment plan of {format_gbp(total_pence)} reviewed"


# --- the daily monitor (the timeline) --------------------------------------------------------


def payment_missed(plan_id: int | str, sequence: int, amount_pence: int, due: date) -> str:
    return (
        f"Payment plan {plan_id}: payment {sequence} of {format_gbp(amount_pence)} "
        f"due {due:%d/%m/%Y} missed"
    )


def payment_due_reminder(plan_id: int | str, sequence: int, owed_pence: int, due: date) -> str:
    return (
        f"Payment plan {plan_id}: reminder that payment {sequence} of "
        f"{format_gbp(owed_pence)} is due {due:%d/%m/%Y}"
    )


def broken_reason(missed: int) -> str:
    """Why a plan broke, kept as its end reason: "2 payments missed"."""
    return f"{missed} payment{'s' if missed != 1 else ''} missed"


def plan_broken(plan_id: int | str, total_pence: int, reason: str) -> str:
    return f"Payment plan {plan_id} of {format_gbp(total_pence)} broken: {reason}"


def broken_detail(unpaid_pence: int) -> str:
    return (
        f"{format_gbp(unpaid_pence)} of the plan unpaid. Its debts return to recovery at the "
        "stage they had when the plan began; the plan is on the broken plans queue."
    )


def plan_completed(plan_id: int | str, total_pence: int) -> str:
    return f"Payment plan {plan_id} of {format_gbp(total_pence)} completed: paid in full"


# --- notices to the debtor -------------------------------------------------------------------


def received_notice(total_pence: int, words: str) -> Notice:
    """A proposal referred to an officer."""
    return Notice(
        subject="We have your payment plan proposal",
        body=(
            f"Thank you. We have your proposal to pay {format_gbp(total_pence)}: "
            f"{words}.\n\nAn officer will look at it and we will tell you the outcome. "
            "Until then, please keep to any payments already due."
        ),
        sms=(
            f"We have your payment plan proposal ({format_gbp(total_pence)}). "
            "An officer will look at it and we will tell you the outcome."
        ),
    )


def active_notice(
    total_pence: int,
    schedule: Sequence[schedules.ScheduledInstalment],
    frequency: str,
    *,
    by_direct_debit: bool,
) -> Notice:
    """A plan that has become active, however it was decided."""
    first = first_payment_words(schedule)
    how = (
        "by direct debit"
        if by_direct_debit
        else "by card: we will send you a reminder with a link to pay before each payment"
    )
    return Notice(
        subject="Your payment plan is set up",
        body=(
            f"Your payment plan of {format_gbp(total_pence)} is set up: "
            f"{schedule_words(schedule, frequency)}.\n\nYour first payment is {first}, {how}.\n\n"
            "While you keep to the plan we will not take further recovery action on the "
            "bills it covers. If you cannot make a payment, contact us straight away."
        ),
        sms=(
            f"Your payment plan is set up. First payment {first}. "
            "Contact us straight away if you cannot pay."
        ),
    )


def rejected_notice(reason: str) -> Notice:
    return Notice(
        subject="Your payment plan proposal",
        body=(
            "We cannot agree the payment plan you proposed.\n\n"
            f"Reason: {reason}\n\n"
            "You can propose a different plan from your account, or contact us to talk "
            "about what you can afford."
        ),
        sms=(
            "We cannot agree the payment plan you proposed. Sign in to your account to "
            "see why and to propose another, or contact us."
        ),
    )


def counter_offer_notice(words: str, reason: str) -> Notice:
    return Notice(
        subject="We have offered you different payment plan terms",
        body=(
            "We have looked at your payment plan proposal and can offer these terms "
            f"instead: {words}.\n\nWhy: {reason}\n\n"
            "Sign in to your account to accept or decline them."
        ),
        sms=(
            "We have offered you different payment plan terms. Sign in to your account "
            "to accept or decline them."
        ),
    )

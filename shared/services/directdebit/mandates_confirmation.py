"""The written confirmation of a new Direct Debit instruction (DOMAIN.md, Bacs): sent
through the outbox in the sign-up's own transaction, by email when the account has an
email address, else by letter to its primary address.

It carries what the scheme requires: the name on the account, the sort code, the last
digits of the account number (never the whole number), the mandate reference, the
council's contact details, the Direct Debit Guarantee, and the first collection's date
and amount when they are known (else a promise of an advance notice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app

from shared.domain.bacs import calendar, guarantee
from shared.extensions import db
from shared.formatting import long_date
from shared.models import Address, DebtorAccount, OutboxChannel, OutboxMessage
from shared.models.directdebit import Mandate
from shared.models.messaging import OutboxStatus
from shared.models.plans import Arrangement, Instalment
from shared.money import format_gbp
from shared.services.directdebit.bank_details import BankDetails

TEMPLATE = "dd_mandate_confirmation"


def dedupe_key(mandate_id: int) -> str:
    return f"dd-confirmation-{int(mandate_id)}"


@dataclass(frozen=True)
class FirstCollection:
    entry_day: date
    amount_pence: int


def first_collection(plan_id: int | None, today: date) -> FirstCollection | None:
    """The plan's next unpaid instalment that can still be collected: due no earlier
    than the advance notice allows (today plus the notice's working days), collected on
    the first Bacs working day on or after it. None when there is no plan or nothing
    left to collect."""
    if plan_id is None:
        return None
    notice = int(current_app.config["BACS_ADVANCE_NOTICE_WORKING_DAYS"])
    earliest = calendar.add_working_days(today, notice)
    row = db.session.execute(
        sa.select(Instalment.due_date, Instalment.amount_pence, Instalment.paid_pence)
        .where(
            Instalment.arrangement_id == plan_id,
            Instalment.due_date >= earliest,
            Instalment.paid_pence < Instalment.amount_pence,
        )
        .order_by(Instalment.due_date, Instalment.sequence)
        .limit(1)
    ).one_or_none()
    if row is None:
        return None
    return FirstCollection(
        calendar.entry_day_for(row.due_date), int(row.amount_pence) - int(row.paid_pence)
    )


def confirmation_body(
    mandate: Mandate,
    details: BankDetails,
    holder_name: str,
    first: FirstCollection | None,
) -> str:
    config = current_app.config
    council = config["COUNCIL_NAME"]
    notice = int(config["BACS_ADVANCE_NOTICE_WORKING_DAYS"])
    address = [line for line in config.get("COUNCIL_ADDRESS_LINES") or [] if line]
    if first is not None:
        when = (
            f"Your first payment of {format_gbp(first.amount_pence)} will be collected on "
            f"or just after {long_date(first.entry_day)}. We will write to you at least "
            f"{notice} working days before any change to the amount, date or frequency."
        )
    else:
        when = (
            f"We will write to you at least {notice} working days before the first "
            "collection to tell you its date and amount."
        )
    lines = [
        f"Your Direct Debit Instruction to {council}",
        "",
        f"Thank you. {council} has set up a Direct Debit Instruction to collect payments "
        "from your bank or building society account.",
        "",
        f"Name on the account: {holder_name}",
        f"Sort code: {details.formatted_sort_code}",
        f"Account number ending: {details.account_ending}",
        f"Direct Debit reference: {mandate.reference}",
        "",
        "Please check these details. If any are wrong, contact us straight away.",
        "",
        when,
        "",
        f"The payments will show on your bank statement as {council} with the reference "
        f"{mandate.reference}.",
        "",
        "Contact us:",
        f"Phone: {config['COUNCIL_PHONE']}",
        f"Email: {config['COUNCIL_EMAIL']}",
        "Post: " + ", ".join(address),
        "",
        guarantee.as_text(council, notice),
    ]
    return "\n".join(lines)


def _recipient(account: DebtorAccount) -> tuple[OutboxChannel, str] | None:
    if account.email:
        return OutboxChannel.EMAIL, account.email
    address = db.session.scalars(
        sa.select(Address)
        .where(Address.account_id == account.id)
        .order_by(Address.is_primary.desc(), Address.id.desc())
        .limit(1)
    ).first()
    if address is None:
        return None
    return OutboxChannel.LETTER, ", ".join(address.lines())


def write_confirmation(
    account: DebtorAccount,
    mandate: Mandate,
    details: BankDetails,
    holder_name: str,
    first: FirstCollection | None,
) -> OutboxMessage | None:
    """Add the confirmation to the outbox in the caller's transaction; None when the
    account has neither an email address nor a postal address."""
    recipient = _recipient(account)
    if recipient is None:
        return None
    channel, to = recipient
    row = OutboxMessage(
        account_id=account.id,
        channel=channel,
        template=TEMPLATE,
        recipient=to,
        subject=f"Your Direct Debit to {current_app.config['COUNCIL_NAME']}",
        body=confirmation_body(mandate, details, holder_name, first),
        status=OutboxStatus.PENDING,
        dedupe_key=dedupe_key(mandate.id),
    )
    db.session.add(row)
    return row


def plan_on_account(plan_id: int, account_id: int) -> Arrangement | None:
    plan = db.session.get(Arrangement, plan_id)
    return plan if plan is not None and plan.account_id == account_id else None

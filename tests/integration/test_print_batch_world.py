"""Letters waiting in the outbox for the print batch tests, inserted directly the way
compose.py and notifications.py write them (their own tests cover the writing). No
tests here."""

from __future__ import annotations

import itertools

import pytest

from shared.extensions import db
from shared.models import (
    Address,
    DebtorAccount,
    DebtorKind,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
    postcode_key,
)

_seq = itertools.count(1)

LONG_BODY = "\n\n".join(
    f"Paragraph {n}: we wrote to you about the money you owe and have not heard from you. "
    "Please pay what you owe or contact us to agree a way to pay it over time."
    for n in range(1, 40)
)


@pytest.fixture
def print_dir(app, tmp_path):
    folder = tmp_path / "print-batches"
    app.config["PRINT_BATCH_DIR"] = str(folder)
    return folder


def make_debtors(count: int, *, language: str = "en") -> list[DebtorAccount]:
    """`count` people, each with a primary address, in one commit."""
    made = []
    for _ in range(count):
        n = next(_seq)
        postcode = f"BC{n % 9 + 1} {n % 10}AB"
        account = DebtorAccount(
            reference=f"L{n:08d}",
            kind=DebtorKind.PERSON,
            forename="Morgan",
            surname=f"Jones{n}",
            language=language,
        )
        account.addresses.append(
            Address(
                line1=f"{n} Station Road",
                line2="Flat 2",
                town="Borchester",
                county="Borsetshire",
                postcode=postcode,
                postcode_key=postcode_key(postcode),
                is_primary=True,
            )
        )
        db.session.add(account)
        made.append(account)
    db.session.commit()
    return made


def composed_letter(
    account: DebtorAccount,
    *,
    template: str = "reminder",
    subject: str = "Reminder: your account is overdue",
    body: str = "Dear Morgan,\n\nYou owe £120.00. Please pay by 1 July 2026.",
    language: str = "en",
    attachment: dict | None = None,
    status: OutboxStatus = OutboxStatus.PENDING,
    commit: bool = True,
) -> OutboxMessage:
    """A letter as compose.py writes it: address lines, name and language in the payload."""
    lines = account.addresses[0].lines()
    payload: dict = {
        "language": language,
        "template_version": 1,
        "address_lines": lines,
        "debtor_name": account.display_name,
    }
    if attachment:
        payload["attachment"] = attachment
    row = OutboxMessage(
        account_id=account.id,
        channel=OutboxChannel.LETTER,
        template=template,
        recipient=", ".join(lines),
        subject=subject,
        body=body,
        status=status,
        payload=payload,
    )
    db.session.add(row)
    if commit:
        db.session.commit()
    return row


def notified_letter(account: DebtorAccount, **kw) -> OutboxMessage:
    """A letter as notifications.py writes it: the address joined in the recipient, no
    payload beyond an attachment."""
    row = OutboxMessage(
        account_id=account.id,
        channel=OutboxChannel.LETTER,
        template=kw.pop("template", "plan_payment_due"),
        recipient=", ".join(account.addresses[0].lines()),
        subject=kw.pop("subject", "Your payment plan: a payment is due"),
        body=kw.pop("body", "Dear Morgan,\n\nYour next payment of £25.00 is due."),
        status=OutboxStatus.PENDING,
        payload=kw.pop("payload", None),
    )
    db.session.add(row)
    db.session.commit()
    return row

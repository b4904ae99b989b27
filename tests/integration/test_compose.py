"""compose / compose_many: template messages written into the outbox after the contact
rules, with the real database. `at` is naive UTC; June 2026 is BST (UTC+1)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from shared.domain import contact_rules
from shared.extensions import db
from shared.models import (
    BreathingSpaceType,
    Channel,
    Language,
    MessagePurpose,
    MessageTemplate,
    OutboxChannel,
    OutboxMessage,
    TemplateChannel,
)
from shared.services.messages.compose import REFUSED_NO_TEMPLATE, Outgoing, compose, compose_many
from tests.factories import make_account

NOON = datetime(2026, 6, 17, 11, 0)  # Wednesday 12:00 in England
NINE_PM = datetime(2026, 6, 17, 20, 0)  # Wednesday 21:00 in England
VALUES = {"name": "Sam Tally", "amount_due": "£80.00"}


@pytest.fixture
def templates(db):
    for channel, subject, body in (
        (TemplateChannel.LETTER, "Reminder", "Dear {name},\n\nPlease pay {amount_due}."),
        (
            TemplateChannel.EMAIL,
            "Reminder: {amount_due}",
            "Dear {name},\n\nPlease pay {amount_due}.",
        ),
        (TemplateChannel.SMS, None, "Please pay {amount_due} to the council."),
    ):
        db.session.add(
            MessageTemplate(
                key="reminder",
                channel=channel,
                language=Language.ENGLISH,
                name="Reminder",
                subject=subject,
                body=body,
            )
        )
    db.session.commit()


def outgoing(account, purpose=MessagePurpose.COLLECTION, **fields) -> Outgoing:
    return Outgoing(account, "reminder", VALUES, purpose, **fields)


def texter(**fields):
    return make_account(
        preferred_channel=Channel.SMS, mobile_phone="+447700900777", consent_sms=True, **fields
    )


def emailer(**fields):
    return make_account(
        preferred_channel=Channel.EMAIL, email="sam@example.com", consent_email=True, **fields
    )


def test_an_email_is_written_with_its_subject_plain_text_and_escaped_html(templates):
    written = compose(outgoing(emailer()), at=NOON)
    row = written.message
    assert written.channel == contact_rules.EMAIL and written.refused is None
    assert (row.channel, row.recipient, row.subject) == (
        OutboxChannel.EMAIL,
        "sam@example.com",
        "Reminder: £80.00",
    )
    assert row.body == "Dear Sam Tally,\n\nPlease pay £80.00."
    assert row.html_body == "<p>Dear Sam Tally,</p>\n<p>Please pay £80.00.</p>"
    assert (row.purpose, row.not_before) == (MessagePurpose.COLLECTION, None)
    assert row.payload["language"] == "en"


def test_a_text_written_in_quiet_hours_waits_until_eight_the_next_morning(templates):
    row = compose(outgoing(texter()), at=NINE_PM).message
    assert (row.channel, row.subject, row.html_body) == (OutboxChannel.SMS, None, None)
    assert row.body == "Please pay £80.00 to the council."
    assert row.not_before == datetime(2026, 6, 18, 7, 0)


def test_a_letter_written_in_quiet_hours_is_not_deferred_and_carries_the_address(templates):
    row = compose(outgoing(make_account()), at=NINE_PM).message
    assert (row.channel, row.not_before) == (OutboxChannel.LETTER, None)
    assert row.payload["address_lines"][-1] == "AB1 2CD"


def test_the_same_dedupe_key_writes_once(templates):
    account = emailer()
    first = compose(outgoing(account, dedupe_key="reminder:1"), at=NOON)
    db.session.commit()
    again = compose(outgoing(account, dedupe_key="reminder:1"), at=NOON)
    assert first.message is not None
    assert (again.message, again.duplicate) == (None, True)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1


def test_a_batch_refuses_the_fourth_request_for_payment_to_one_debtor(templates):
    account = emailer()
    written = compose_many([outgoing(account) for _ in range(4)], at=NOON)
    assert [w.refused for w in written] == [None, None, None, contact_rules.REFUSED_CAP]


def test_breathing_space_and_death_are_refused_with_the_reason(templates):
    in_space = emailer(
        breathing_space_type=BreathingSpaceType.STANDARD, breathing_space_start=date(2026, 6, 1)
    )
    dead = emailer(deceased=True)
    refused = compose_many([outgoing(in_space), outgoing(dead)], at=NOON)
    assert [w.refused for w in refused] == [
        contact_rules.REFUSED_BREATHING_SPACE,
        contact_rules.REFUSED_DECEASED,
    ]
    about = compose(outgoing(in_space, MessagePurpose.BREATHING_SPACE), at=NOON)
    assert about.message is not None


def test_breathing_space_is_judged_on_the_day_of_at_in_england(templates):
    # Starts on 18 June: a message written at 23:30 BST on the 17th is before it,
    # one at 00:30 BST on the 18th (still the 17th in UTC) is inside it.
    account = emailer(
        breathing_space_type=BreathingSpaceType.STANDARD, breathing_space_start=date(2026, 6, 18)
    )
    before = compose(outgoing(account), at=datetime(2026, 6, 17, 22, 30))
    inside = compose(outgoing(account), at=datetime(2026, 6, 17, 23, 30))
    assert before.refused is None
    assert inside.refused == contact_rules.REFUSED_BREATHING_SPACE


def test_texts_only_without_consent_is_refused_for_want_of_a_channel(templates):
    account = make_account(preferred_channel=Channel.SMS, mobile_phone="+447700900777")
    written = compose(outgoing(account, channels=("sms",)), at=NOON)
    assert (written.message, written.refused) == (None, contact_rules.REFUSED_NO_CHANNEL)


def test_a_template_with_no_version_for_the_allowed_channels_is_refused(templates):
    written = compose(Outgoing(emailer(), "no-such-template", VALUES, MessagePurpose.SERVICE))
    assert written.refused == REFUSED_NO_TEMPLATE


def test_a_welsh_speaker_gets_the_english_template_when_there_is_no_welsh_one(templates):
    row = compose(outgoing(emailer(language="cy")), at=NOON).message
    assert row.payload["language"] == "en"
    assert row.subject == "Reminder: £80.00"

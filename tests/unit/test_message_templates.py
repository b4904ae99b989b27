"""The rules a message template meets before it is saved, and the default templates a
council starts with (pure: no database)."""

from __future__ import annotations

import pytest

from shared.domain.default_templates import DEFAULT_TEMPLATES
from shared.domain.message_templates import (
    PLACEHOLDER_NAMES,
    SAMPLE_VALUES,
    SMS_MAX_SEGMENTS,
    fill,
    placeholders_in,
    problems_in,
)
from shared.domain.sms import sms_segments
from shared.domain.template_checks import TemplateFields, segments_when_filled, template_problems


def fields(**overrides) -> TemplateFields:
    values = {
        "key": "dunning.reminder",
        "channel": "letter",
        "language": "en",
        "name": "Reminder",
        "subject": "Reminder for {account_reference}",
        "body": "Dear {debtor_name},\n\nPlease pay {amount_due}.",
    }
    values.update(overrides)
    return TemplateFields(**values)


def test_a_well_formed_letter_has_no_problems():
    assert template_problems(fields()) == {}


def test_an_unknown_placeholder_in_the_body_is_named_in_the_body_problem():
    problems = template_problems(fields(body="Dear {debtor_name}, pay {amount_owed} now"))

    assert problems == {
        "body": "The message uses {amount_owed}, which is not a placeholder we can fill"
    }


def test_a_lone_brace_in_the_subject_is_a_subject_problem():
    problems = template_problems(fields(subject="Reminder {account_reference"))

    assert set(problems) == {"subject"}
    assert "on its own" in problems["subject"]


def test_doubled_braces_are_literal_and_allowed():
    assert template_problems(fields(body="Quote {{ref}} as {payment_reference}")) == {}
    assert fill("Quote {{ref}}", {}) == "Quote {ref}"


@pytest.mark.parametrize("channel", ["letter", "email"])
def test_letters_and_email_need_a_subject(channel):
    assert set(template_problems(fields(channel=channel, subject=" "))) == {"subject"}


def test_a_text_has_no_subject():
    problems = template_problems(fields(channel="sms", subject="Hello"))

    assert problems == {"subject": "A text message has no subject: leave it empty"}


def test_a_text_longer_than_the_segment_limit_once_filled_is_refused():
    # Each {council_name} fills as 26 characters: 20 of them are well past 3 segments.
    body = " ".join(["{council_name}"] * 20)
    assert segments_when_filled(body) > SMS_MAX_SEGMENTS

    problems = template_problems(fields(channel="sms", subject=None, body=body))

    assert set(problems) == {"body"}
    assert f"at most {SMS_MAX_SEGMENTS}" in problems["body"]


def test_a_text_at_exactly_the_segment_limit_is_allowed():
    # 3 GSM-7 segments hold 3 x 153 characters.
    body = "a" * (3 * 153)
    assert sms_segments(body) == 3

    assert template_problems(fields(channel="sms", subject=None, body=body)) == {}
    assert template_problems(fields(channel="sms", subject=None, body=body + "a")) != {}


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("dunning.reminder", True),
        ("officer.general_sms", True),
        ("letter_of_claim", True),
        ("Dunning.Reminder", False),
        ("dunning..reminder", False),
        (".reminder", False),
        ("dunning reminder", False),
        ("", False),
    ],
)
def test_keys_are_lower_case_dotted_names(key, ok):
    assert ("key" not in template_problems(fields(key=key))) is ok


def test_channel_language_and_name_must_be_known_and_present():
    problems = template_problems(fields(channel="fax", language="fr", name="  "))

    assert set(problems) == {"channel", "language", "name"}


# --- the defaults ---------------------------------------------------------------------------------

KEYS = {
    "dunning.reminder": {"letter", "email", "sms"},
    "dunning.final_demand": {"letter", "email", "sms"},
    "dunning.pre_action": {"letter", "email"},
    "letter_of_claim": {"letter"},
    "officer.general_letter": {"letter"},
    "officer.general_email": {"email"},
    "officer.general_sms": {"sms"},
    "officer.payment_reminder": {"letter", "email", "sms"},
}


def test_every_key_has_its_channels_in_english_and_welsh_and_nothing_else():
    found: dict[tuple[str, str], set[str]] = {}
    for t in DEFAULT_TEMPLATES:
        found.setdefault((t.key, t.language), set()).add(t.channel)

    assert found == {(key, lang): chans for key, chans in KEYS.items() for lang in ("en", "cy")}
    assert len({(t.key, t.channel, t.language) for t in DEFAULT_TEMPLATES}) == len(
        DEFAULT_TEMPLATES
    )


@pytest.mark.parametrize("t", DEFAULT_TEMPLATES, ids=lambda t: f"{t.key}-{t.channel}-{t.language}")
def test_every_default_template_passes_the_checks_it_would_meet_when_saved(t):
    assert problems_in(t.body) == []
    assert (
        template_problems(TemplateFields(t.key, t.channel, t.language, t.name, t.subject, t.body))
        == {}
    )


@pytest.mark.parametrize(
    "t",
    [t for t in DEFAULT_TEMPLATES if t.channel == "sms" and t.language == "en"],
    ids=lambda t: t.key,
)
def test_english_texts_are_one_segment_and_name_no_amount(t):
    assert segments_when_filled(t.body) == 1
    names = set(placeholders_in(t.body))
    assert not names & {"amount_due", "account_balance", "late_payment_charges"}


@pytest.mark.parametrize(
    "t",
    [t for t in DEFAULT_TEMPLATES if t.key.startswith("dunning.") and t.channel != "sms"],
    ids=lambda t: f"{t.key}-{t.channel}-{t.language}",
)
def test_collection_letters_say_what_is_owed_by_when_how_to_pay_and_where_to_get_advice(t):
    names = set(placeholders_in(t.body))
    assert {
        "amount_due",
        "pay_by_date",
        "portal_url",
        "payment_reference",
        "council_phone",
    } <= names
    for adviser in ("MoneyHelper", "StepChange", "Citizens Advice"):
        assert adviser in t.body


def test_the_letter_of_claim_states_what_the_protocol_requires():
    [english] = [t for t in DEFAULT_TEMPLATES if t.key == "letter_of_claim" and t.language == "en"]
    text = fill(english.body, SAMPLE_VALUES)

    assert "Pre-Action Protocol for Debt Claims" in text
    assert SAMPLE_VALUES["amount_due"] in text
    assert "not adding interest or other charges" in text
    assert "information sheet and a reply form" in text
    assert "within 30 days" in text and SAMPLE_VALUES["respond_by_date"] in text
    assert SAMPLE_VALUES["portal_url"] in text and SAMPLE_VALUES["payment_reference"] in text
    assert SAMPLE_VALUES["council_phone"] in text and SAMPLE_VALUES["council_email"] in text


def test_the_welsh_is_its_own_text_not_the_english_again():
    english = {(t.key, t.channel): t.body for t in DEFAULT_TEMPLATES if t.language == "en"}
    for t in DEFAULT_TEMPLATES:
        if t.language == "cy":
            assert t.body != english[t.key, t.channel]
            assert t.body.startswith(("Annwyl", "{council_name}: "))


def test_every_placeholder_the_defaults_use_is_one_we_fill():
    used = {name for t in DEFAULT_TEMPLATES for name in placeholders_in(t.body + (t.subject or ""))}
    assert used <= PLACEHOLDER_NAMES

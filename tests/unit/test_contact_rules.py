"""The contact rules as pure functions: channel, suppression, the weekly cap and quiet
hours. Expected moments are written out by hand from the calendar (June 2026 is
British Summer Time, UTC+1; the clocks go forward on Sunday 29 March 2026)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from shared.domain import contact_rules as rules
from shared.domain.contact_rules import (
    BREATHING_SPACE,
    COLLECTION,
    EMAIL,
    LETTER,
    SERVICE,
    SMS,
    QuietHours,
    Reach,
)

LONDON = ZoneInfo("Europe/London")
DEFAULT_QUIET = QuietHours(time(20, 0), time(8, 0), sundays=True)
EVERY = (LETTER, EMAIL, SMS)


def reach(**changes) -> Reach:
    fields = dict(
        preferred="email",
        email=True,
        consent_email=True,
        mobile=True,
        consent_sms=True,
        address=True,
        in_breathing_space=False,
        deceased=False,
    )
    fields.update(changes)
    return Reach(**fields)


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


def decide(r: Reach, *, purpose=COLLECTION, allowed=EVERY, at=None, asked=0, cap=3):
    return rules.decide(
        r,
        purpose=purpose,
        allowed=allowed,
        at=at or london(2026, 6, 17, 12, 0),  # a Wednesday noon
        quiet=DEFAULT_QUIET,
        asked_this_week=asked,
        weekly_cap=cap,
    )


# --- the channel ------------------------------------------------------------------------------


def test_the_preferred_channel_is_used_when_the_sender_allows_it_and_it_is_usable():
    assert rules.choose_channel(reach(preferred="sms"), EVERY) == SMS
    assert rules.choose_channel(reach(preferred="post"), EVERY) == LETTER
    assert rules.choose_channel(reach(preferred="email"), EVERY) == EMAIL


def test_a_text_needs_consent_so_without_it_the_next_allowed_channel_is_chosen():
    no_consent = reach(preferred="sms", consent_sms=False)
    assert rules.choose_channel(no_consent, (EMAIL, LETTER, SMS)) == EMAIL
    assert rules.choose_channel(no_consent, (SMS, LETTER)) == LETTER


def test_an_email_address_may_be_used_when_email_is_preferred_even_without_the_consent_box():
    assert rules.choose_channel(reach(consent_email=False), (EMAIL, LETTER)) == EMAIL
    assert (
        rules.choose_channel(reach(preferred="post", consent_email=False, address=False), (EMAIL,))
        is None
    )


def test_nothing_is_chosen_when_no_allowed_channel_can_reach_the_debtor():
    unreachable = reach(preferred="sms", mobile=False, email=False, address=False)
    assert rules.choose_channel(unreachable, EVERY) is None
    verdict = decide(unreachable, purpose=SERVICE)
    assert (verdict.channel, verdict.refused) == (None, rules.REFUSED_NO_CHANNEL)


# --- suppression and the cap ----------------------------------------------------------------


@pytest.mark.parametrize("purpose", [COLLECTION, SERVICE, BREATHING_SPACE])
def test_nothing_at_all_goes_to_a_deceased_debtor(purpose):
    verdict = decide(reach(deceased=True), purpose=purpose)
    assert (verdict.channel, verdict.refused) == (None, rules.REFUSED_DECEASED)


def test_breathing_space_stops_requests_for_payment_but_not_messages_about_it_or_service():
    in_space = reach(in_breathing_space=True)
    assert decide(in_space, purpose=COLLECTION).refused == rules.REFUSED_BREATHING_SPACE
    assert decide(in_space, purpose=BREATHING_SPACE).channel == EMAIL
    assert decide(in_space, purpose=SERVICE).channel == EMAIL


def test_the_weekly_cap_refuses_the_request_for_payment_after_the_cap_and_not_before():
    assert decide(reach(), asked=2, cap=3).channel == EMAIL
    assert decide(reach(), asked=3, cap=3).refused == rules.REFUSED_CAP
    assert decide(reach(), asked=1, cap=1).refused == rules.REFUSED_CAP


def test_the_weekly_cap_does_not_count_against_service_messages():
    assert decide(reach(), purpose=SERVICE, asked=10, cap=3).channel == EMAIL


# --- quiet hours ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (london(2026, 6, 17, 19, 59), False),
        (london(2026, 6, 17, 20, 0), True),
        (london(2026, 6, 18, 7, 59), True),
        (london(2026, 6, 18, 8, 0), False),
        (london(2026, 6, 21, 12, 0), True),  # a Sunday
        (london(2026, 6, 22, 8, 0), False),  # the Monday after
    ],
)
def test_quiet_hours_are_read_on_the_clock_in_england(moment, quiet):
    assert rules.in_quiet_hours(moment, DEFAULT_QUIET) is quiet
    # The same moment given in UTC is judged the same way.
    assert rules.in_quiet_hours(moment.astimezone(UTC), DEFAULT_QUIET) is quiet


def test_a_text_written_at_nine_in_the_evening_waits_until_eight_the_next_morning():
    verdict = decide(reach(preferred="sms"), at=london(2026, 6, 16, 21, 0))  # a Tuesday
    assert verdict.channel == SMS
    assert verdict.not_before == datetime(2026, 6, 17, 7, 0)  # 08:00 BST, naive UTC


def test_a_text_written_on_saturday_evening_waits_past_sunday_until_monday_morning():
    verdict = decide(reach(preferred="sms"), at=london(2026, 6, 20, 21, 0))
    assert verdict.not_before == datetime(2026, 6, 22, 7, 0)


def test_a_text_written_on_a_sunday_afternoon_waits_until_monday_morning():
    verdict = decide(reach(preferred="sms"), at=london(2026, 6, 21, 15, 30))
    assert verdict.not_before == datetime(2026, 6, 22, 7, 0)


def test_monday_morning_after_the_clocks_go_forward_is_eight_oclock_summer_time():
    verdict = decide(reach(preferred="sms"), at=london(2026, 3, 28, 22, 0))  # Saturday, GMT
    assert verdict.not_before == datetime(2026, 3, 30, 7, 0)  # 08:00 BST


def test_a_text_in_the_day_goes_at_once_and_email_is_never_deferred():
    assert decide(reach(preferred="sms")).not_before is None
    late_email = decide(reach(preferred="email"), at=london(2026, 6, 16, 23, 0))
    assert (late_email.channel, late_email.not_before) == (EMAIL, None)
    sunday_letter = decide(reach(preferred="post"), at=london(2026, 6, 21, 12, 0))
    assert (sunday_letter.channel, sunday_letter.not_before) == (LETTER, None)


def test_quiet_hours_without_sundays_let_a_sunday_afternoon_text_go():
    weekdays_only = QuietHours(time(20, 0), time(8, 0), sundays=False)
    sunday_noon = london(2026, 6, 21, 12, 0)
    assert rules.quiet_hours_end(sunday_noon, weekdays_only) is None
    assert rules.quiet_hours_end(london(2026, 6, 20, 21, 0), weekdays_only) == london(
        2026, 6, 21, 8, 0
    )


def test_quiet_hours_within_one_day_end_the_same_day():
    lunch = QuietHours(time(13, 0), time(14, 0), sundays=False)
    assert rules.quiet_hours_end(london(2026, 6, 17, 13, 30), lunch) == london(2026, 6, 17, 14, 0)
    assert rules.quiet_hours_end(london(2026, 6, 17, 14, 0), lunch) is None

"""When a signed-in session ends by itself (shared/domain/web_sessions.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.domain.web_sessions import Expiry, Limits, expiry, needs_touch

START = datetime(2026, 3, 2, 9, 0, 0)
LIMITS = Limits(idle=timedelta(minutes=30), lifetime=timedelta(hours=2))


def test_a_session_used_within_the_idle_limit_and_its_lifetime_goes_on():
    assert (
        expiry(START, START + timedelta(minutes=90), START + timedelta(minutes=119), LIMITS) is None
    )


def test_the_idle_limit_is_passed_only_when_more_than_the_limit_has_gone_by():
    at_limit = START + timedelta(minutes=30)
    assert expiry(START, START, at_limit, LIMITS) is None
    assert expiry(START, START, at_limit + timedelta(seconds=1), LIMITS) == Expiry.IDLE


def test_the_lifetime_ends_a_session_at_its_length_however_recently_it_was_used():
    two_hours = START + timedelta(hours=2)
    assert expiry(START, two_hours - timedelta(seconds=1), two_hours, LIMITS) == Expiry.LIFETIME
    assert expiry(START, two_hours, two_hours - timedelta(seconds=1), LIMITS) is None


def test_a_session_past_both_limits_ended_by_its_lifetime():
    long_after = START + timedelta(hours=5)
    assert expiry(START, START, long_after, LIMITS) == Expiry.LIFETIME


def test_last_use_is_written_again_once_a_minute_has_gone_by():
    assert not needs_touch(START, START + timedelta(seconds=59))
    assert needs_touch(START, START + timedelta(seconds=60))

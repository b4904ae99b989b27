"""When one administrator may set a delegated limit alone (shared/domain/staff_limits.py)."""

from __future__ import annotations

import pytest

from shared.domain.staff_limits import Limits, needs_second_admin

CEILING = 500_000


@pytest.mark.parametrize(
    ("before", "after", "second_admin"),
    [
        # New accounts: only limits above the ceiling wait.
        (None, Limits(0, 0), False),
        (None, Limits(CEILING, CEILING), False),
        (None, Limits(CEILING + 1, 0), True),
        (None, Limits(0, CEILING + 1), True),
        # Raising up to the ceiling, or past it.
        (Limits(0, 0), Limits(CEILING, 1), False),
        (Limits(0, 0), Limits(CEILING + 1, 0), True),
        (Limits(CEILING, CEILING), Limits(CEILING, CEILING + 1), True),
        # Already above it: raising further waits, lowering never does.
        (Limits(900_000, 0), Limits(900_001, 0), True),
        (Limits(900_000, 0), Limits(800_000, 0), False),
        (Limits(900_000, 0), Limits(0, 0), False),
        # One limit down, the other up past the ceiling: the rise decides.
        (Limits(900_000, 0), Limits(0, 600_000), True),
        # Unchanged above the ceiling (only the other limit moves, within it).
        (Limits(900_000, 0), Limits(900_000, 10_000), False),
    ],
)
def test_a_second_admin_is_needed_only_to_raise_a_limit_above_the_ceiling(
    before, after, second_admin
):
    assert needs_second_admin(before, after, CEILING) is second_admin


def test_a_ceiling_of_nothing_sends_every_rise_to_a_second_admin():
    assert needs_second_admin(Limits(0, 0), Limits(1, 0), 0) is True
    assert needs_second_admin(Limits(5, 5), Limits(0, 0), 0) is False


def test_a_write_off_limit_already_above_the_ceiling_and_left_alone_needs_no_second_admin():
    # Only the refund limit moves, within the ceiling.
    assert needs_second_admin(Limits(0, 900_000), Limits(10_000, 900_000), CEILING) is False

"""Temporary passwords an administrator hands to a new or locked-out member of staff."""

from __future__ import annotations

from shared.services.portal_accounts import password_problem
from shared.services.staff_admin import MAX_LIMIT_PENCE, limit_problem, temporary_password


def test_temporary_passwords_meet_the_password_rules_and_are_never_repeated():
    passwords = {temporary_password() for _ in range(200)}

    assert len(passwords) == 200
    assert all(password_problem(p) is None for p in passwords)


def test_temporary_passwords_avoid_characters_people_misread():
    for password in (temporary_password() for _ in range(50)):
        assert not set(password) & set("01ilo")
        assert [len(group) for group in password.split("-")] == [4, 4, 4, 4]


def test_delegated_limits_run_from_nothing_to_a_million_pounds():
    assert limit_problem(0) is None
    assert limit_problem(MAX_LIMIT_PENCE) is None
    assert MAX_LIMIT_PENCE == 100_000_000
    assert limit_problem(-1) == "Limit must be £0 or more"
    assert limit_problem(MAX_LIMIT_PENCE + 1) == "Limit must be £1,000,000 or less"

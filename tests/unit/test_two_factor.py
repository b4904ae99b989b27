"""Authenticator codes: the window either side of now, and never the same step twice."""

from __future__ import annotations

import base64

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.two_factor import (
    STEP_SECONDS,
    CodeOutcome,
    check_code,
    code_at,
    grouped,
    new_secret,
    normalise_code,
    provisioning_uri,
    time_step,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# A moment in the middle of a step, so ±1 step is unambiguous.
NOW = 1_790_000_015.0
STEP = time_step(NOW)


def test_codes_match_what_an_authenticator_app_computes():
    assert code_at(SECRET, STEP) == pyotp.TOTP(SECRET).at(NOW)
    # RFC 6238 test vector (SHA-1, 8 digits truncated to the last 6).
    rfc_secret = base64.b32encode(b"12345678901234567890").decode()
    assert code_at(rfc_secret, time_step(59)) == "287082"


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_a_code_from_one_step_either_side_is_accepted_for_its_own_step(offset):
    check = check_code(SECRET, code_at(SECRET, STEP + offset), NOW, None)

    assert check.outcome == CodeOutcome.ACCEPTED
    assert check.step == STEP + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_a_code_from_further_away_is_wrong(offset):
    code = code_at(SECRET, STEP + offset)
    assert code not in {code_at(SECRET, STEP + n) for n in (-1, 0, 1)}

    assert check_code(SECRET, code, NOW, None).outcome == CodeOutcome.WRONG


def test_a_code_already_used_is_refused_as_replayed():
    code = code_at(SECRET, STEP)
    first = check_code(SECRET, code, NOW, None)

    again = check_code(SECRET, code, NOW + 5, first.step)

    assert again.outcome == CodeOutcome.REPLAYED


def test_an_older_code_is_refused_once_a_newer_one_was_used():
    assert check_code(SECRET, code_at(SECRET, STEP - 1), NOW, STEP).outcome == CodeOutcome.REPLAYED


def test_the_next_code_is_accepted_after_one_was_used():
    check = check_code(SECRET, code_at(SECRET, STEP + 1), NOW, STEP)

    assert (check.outcome, check.step) == (CodeOutcome.ACCEPTED, STEP + 1)


@pytest.mark.parametrize("typed", ["", None, "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12 34 5"])
def test_anything_but_six_digits_is_wrong_without_comparing(typed):
    assert normalise_code(typed) is None
    assert check_code(SECRET, typed, NOW, None).outcome == CodeOutcome.WRONG


def test_spaces_and_dashes_people_type_are_ignored():
    code = code_at(SECRET, STEP)
    spaced = f" {code[:3]} {code[3:]} "
    dashed = f"{code[:3]}-{code[3:]}"

    assert normalise_code(spaced) == normalise_code(dashed) == code
    assert check_code(SECRET, spaced, NOW, None).outcome == CodeOutcome.ACCEPTED


def test_the_time_step_is_thirty_seconds():
    assert STEP_SECONDS == 30
    assert time_step(0) == time_step(29.999) == 0
    assert time_step(30) == 1


def test_new_secrets_are_160_bit_base32_and_different_each_time():
    secrets = {new_secret() for _ in range(20)}

    assert len(secrets) == 20
    assert all(len(s) == 32 and set(s) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for s in secrets)


def test_the_provisioning_uri_names_the_issuer_and_the_person():
    uri = provisioning_uri(SECRET, "sam@council.example", "Borsetshire County Council")

    assert uri.startswith("otpauth://totp/Borsetshire%20County%20Council:sam%40council.example?")
    assert f"secret={SECRET}" in uri
    assert "issuer=Borsetshire%20County%20Council" in uri


def test_the_secret_is_shown_in_groups_of_four():
    assert grouped("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") == (
        "ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567"
    )


@given(st.integers(min_value=0, max_value=10**6 - 1), st.integers(min_value=0, max_value=10**9))
def test_a_random_guess_is_only_ever_accepted_for_a_step_in_the_window(guess, now):
    check = check_code(SECRET, f"{guess:06d}", float(now), None)

    if check.outcome == CodeOutcome.ACCEPTED:
        assert abs(check.step - time_step(now)) <= 1
        assert code_at(SECRET, check.step) == f"{guess:06d}"

"""Time-based one-time passwords (RFC 6238) for staff sign-in, as pure functions.

An authenticator app shows a 6-digit code that changes every 30 seconds. A
code is accepted for its own 30-second step and one step either side (phone
clocks drift, and people type slowly), but never for a step at or before the
last one accepted: a code seen over someone's shoulder, or sent twice, cannot
be used again.
"""

from __future__ import annotations

import enum
import hmac
import re
from dataclasses import dataclass

import pyotp

STEP_SECONDS = 30
DIGITS = 6
# Steps either side of now that still count.
WINDOW = 1

_SPACING = re.compile(r"[\s-]")


class CodeOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"  # not the code for any step in the window, or not 6 digits
    REPLAYED = "replayed"  # right code, but its step was already used


@dataclass(frozen=True)
class CodeCheck:
    outcome: CodeOutcome
    step: int | None = None  # the step the code belongs to, when it matched one


def new_secret() -> str:
    """A random base32 secret of 160 bits, as RFC 4226 recommends."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account_name: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer)


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def time_step(unix_time: float) -> int:
    return int(unix_time // STEP_SECONDS)


def normalise_code(text: str | None) -> str | None:
    """The 6 digits typed, without the spaces or dashes people add; None if not 6 digits."""
    digits = _SPACING.sub("", text or "")
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def check_code(secret: str, code: str | None, unix_time: float, last_step: int | None) -> CodeCheck:
    """Whether `code` is right for a step within the window of `unix_time` and not yet used."""
    typed = normalise_code(code)
    if typed is None:
        return CodeCheck(CodeOutcome.WRONG)
    now = time_step(unix_time)
    replayed = None
    # Every step in the window is checked, so the time taken does not depend on
    # which one (if any) matched.
    matches = [
        step
        for step in range(max(0, now - WINDOW), now + WINDOW + 1)
        if hmac.compare_digest(code_at(secret, step), typed)
    ]
    for step in sorted(matches, reverse=True):
        if last_step is None or step > last_step:
            return CodeCheck(CodeOutcome.ACCEPTED, step)
        replayed = step
    if replayed is not None:
        return CodeCheck(CodeOutcome.REPLAYED, replayed)
    return CodeCheck(CodeOutcome.WRONG)

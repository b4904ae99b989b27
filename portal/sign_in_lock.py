"""The sign-in lock as a stranger sees it: the same for an email address with no login.

A login is locked in the database after MAX_FAILED_SIGN_INS wrong passwords in a row,
for LOCKOUT (shared.services.portal_accounts.authenticate). An address with no login
has no row to lock, so without this it would answer "incorrect" for ever, and five
tries would tell anyone which addresses have logins. Here the wrong tries at every
address are counted in Redis too, and an address with no login is "locked" in the
same way: from its fifth wrong try in a row, for LOCKOUT, whatever is typed. A login's
own lock stays the one in the database; a right password clears the count.
"""

from __future__ import annotations

from flask import current_app

from shared.ratelimit import Limit, limiter_for
from shared.services.portal_accounts import LOCKOUT, MAX_FAILED_SIGN_INS, normalise_email

_SECONDS = int(LOCKOUT.total_seconds())
# Wrong tries in a row (a fixed window from the first, which ends no later than a
# login's lock that the fifth would start).
WRONG_TRIES = Limit("portal-sign-in-wrong-email", MAX_FAILED_SIGN_INS - 1, _SECONDS)
# Started by the fifth wrong try, so it lasts LOCKOUT from then, as a login's lock does.
LOCKED_OUT = Limit("portal-sign-in-locked-email", 1, _SECONDS)


def locked_after_wrong_try(email: str) -> bool:
    """Count a refused sign-in that raised no lock of its own; whether the address is
    now locked as a login would be."""
    limiter = limiter_for(current_app)
    key = normalise_email(email)
    if limiter.exceeded(LOCKED_OUT, key):
        return True
    if limiter.hit(WRONG_TRIES, key):
        return False
    limiter.hit(LOCKED_OUT, key)
    limiter.reset(WRONG_TRIES, key)
    return True


def signed_in(email: str) -> None:
    """A right password: the wrong tries before it no longer count."""
    limiter_for(current_app).reset(WRONG_TRIES, normalise_email(email))

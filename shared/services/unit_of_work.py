"""One use case, one transaction."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from shared.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def use_case(fn: Callable[P, R]) -> Callable[P, R]:
    """Roll back whatever the use case started if it raises.

    The use case commits itself on success. On a refusal (or any error) the
    transaction, and any row lock it took, ends here, so the caller's session
    is clean and nothing half-done can be committed later by someone else.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise

    return wrapper

"""When a change to someone's delegated limits needs a second administrator.

One administrator may set limits up to a ceiling (STAFF_LIMIT_CEILING_PENCE) on
their own. A change that takes either limit above the ceiling, or raises one
that is already above it, waits until a different administrator approves it.
Lowering a limit never waits: a smaller limit is always the safer side, and
holding a reduction back would leave the larger limit in force meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Delegated limits in pence; None before someone has any (a new account). The
    invoice limit is the largest invoice they may issue without someone checking it."""

    refund_pence: int
    write_off_pence: int
    invoice_pence: int = 0


def needs_second_admin(before: Limits | None, after: Limits, ceiling_pence: int) -> bool:
    """Whether changing `before` to `after` must wait for a second administrator."""
    pairs = (
        (None if before is None else before.refund_pence, after.refund_pence),
        (None if before is None else before.write_off_pence, after.write_off_pence),
        (None if before is None else before.invoice_pence, after.invoice_pence),
    )
    return any(new > ceiling_pence and (old is None or new > old) for old, new in pairs)

"""Card payments refused because the provider's "paid" event did not match the
checkout (another amount or currency): nothing was posted, and this list is where
an officer finds them to check with the provider."""

from __future__ import annotations

from flask import render_template

from backoffice import bp
from backoffice.auth import requires
from shared.domain.permissions import Permission
from shared.services import card_event_refusals


@bp.get("/payments/refused-card-events")
@requires(Permission.VIEW_CASES)
def refused_card_events():
    return render_template(
        "backoffice/payments/refused_card_events.html",
        refusals=card_event_refusals.recent_refusals(),
        limit=card_event_refusals.LIST_LIMIT,
    )

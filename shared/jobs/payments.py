"""Payment jobs run by the workers."""

from __future__ import annotations

from shared.jobs.context import app_context


def reconcile_card_checkouts() -> dict[str, int]:
    """Settle card checkouts whose webhook never came, by asking the provider."""
    from shared.integrations.payments import PaymentGateway
    from shared.services.card_payments import reconcile_checkouts

    with app_context() as app:
        return reconcile_checkouts(PaymentGateway.from_config(app.config))

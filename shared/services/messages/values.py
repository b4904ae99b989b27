"""The placeholder values (shared.domain.message_templates.PLACEHOLDERS) for an account."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from flask import current_app

from shared.clock import today
from shared.formatting import long_date
from shared.models import DebtorAccount
from shared.money import format_gbp

PAY_WITHIN_DAYS = 14


def council_values() -> dict[str, str]:
    config = current_app.config
    return {
        "council_name": str(config["COUNCIL_NAME"]),
        "council_phone": str(config["COUNCIL_PHONE"]),
        "council_email": str(config["COUNCIL_EMAIL"]),
        "portal_url": str(config.get("PUBLIC_BASE_URL", "")).split("://", 1)[-1] + "/pay",
    }


def account_values(
    account: DebtorAccount,
    *,
    on: date | None = None,
    amount_due_pence: int | None = None,
    account_balance_pence: int | None = None,
    invoice_numbers: list[str] | None = None,
    oldest_due_date: date | None = None,
    department_name: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every placeholder's value for `account` on day `on`; what the caller does not
    know is left empty (and only templates that use it would show the gap)."""
    on = on or today()
    language = account.language or "en"
    values = {
        **council_values(),
        "debtor_name": account.display_name,
        "account_reference": account.reference,
        "payment_reference": account.reference,
        "today": long_date(on, language),
        "pay_by_date": long_date(on + timedelta(days=PAY_WITHIN_DAYS), language),
        "amount_due": format_gbp(amount_due_pence) if amount_due_pence is not None else "",
        "account_balance": (
            format_gbp(account_balance_pence) if account_balance_pence is not None else ""
        ),
        "invoice_numbers": ", ".join(invoice_numbers or []),
        "oldest_due_date": long_date(oldest_due_date, language) if oldest_due_date else "",
        "department_name": department_name or "",
        "respond_by_date": "",
        "late_payment_charges": "",
        "officer_name": "",
    }
    values.update(extra or {})
    return values

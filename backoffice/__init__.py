"""The back office: recovery officers and team leaders work cases."""

from flask import Blueprint

bp = Blueprint("backoffice", __name__)

from backoffice import (  # noqa: E402,F401
    accounts,
    approvals,
    audit,
    auth,
    bacs_files,
    bacs_reports,
    bank_statements,
    base_rates,
    card_event_refusals,
    collection_targets,
    contact_details,
    contacts,
    correspondence,
    credit_notes,
    dashboard,
    direct_debits,
    dunning_admin,
    dunning_runs,
    finance_settings,
    first_password,
    holds,
    invoice_imports,
    invoice_schedules,
    invoices,
    journals,
    legal_steps,
    payment_checks,
    payments,
    plans,
    print_batches,
    referrals,
    report_packs,
    reports,
    staff_admin,
    unallocated,
    views,
)

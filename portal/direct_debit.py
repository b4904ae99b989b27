"""Direct Debit in the portal: sign up (for a payment plan or future invoices), see,
change bank details, cancel."""

from portal import bp  # noqa: F401

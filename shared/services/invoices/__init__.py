"""Invoices raised in the back office: drafts, the checking queue, issuing and sending.

- drafts: start a draft for an account, change its details and lines, send it for
  checking, cancel it; what the raiser and checker read (the draft page, "my drafts",
  the queue, the account finder for service departments).
- checking: a different officer issues a draft from the queue or returns it with a note.
- issuing: the one way a draft becomes an invoice (numbered, dated today, posted to the
  ledger and sent through the outbox), used by the checker and by a raiser whose
  invoice needs no check.
- documents: the invoice as a PDF (the draft's preview, the issued invoice attached to
  the email), registered with shared/documents.py as "invoice".

Which drafts need checking and who may check them are pure rules in
shared/domain/invoice_checks.py.
"""

from shared.services.invoices import documents  # noqa: F401  (registers "invoice")

"""Invoices in from the council's finance system (docs/invoice-import.md).

- importer.submit_file: an uploaded file kept and queued (the back office; the job
  in shared/jobs/invoice_imports.py runs it); importer.start_file: a file on disk
  recorded for the command line to run at once.
- importer.run_import: pass 1 checks every row (nothing written if any is wrong),
  pass 2 writes the invoices, accounts, ledger entries, timeline and audit rows in
  bulk (writer.py), in one transaction.
- reads: an import's status and summary, the list of imports.
"""

"""Bank statements in: import a statement file, match its lines, post what matched,
and let an officer settle the rest.

- importer.import_statement: one file, one transaction (shared/domain/bank_statements
  reads and matches; this package loads what matching needs in bulk and posts).
- resolve.post_line / resolve.not_ours: an officer's decision on a suggested or
  unmatched line, once.
- reads: the import summary, the list of imports, the officers' queue.
"""

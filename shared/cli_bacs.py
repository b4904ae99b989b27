"""`flask --app wsgi bacs ...`: Direct Debit from the command line (modulus checks,
the day's collection file, reports from Bacs). Registered by shared/cli.py."""

from __future__ import annotations

from flask.cli import AppGroup

bacs = AppGroup("bacs", help="Bacs Direct Debit: account checks, collection files, reports.")

"""`flask --app wsgi dunning ...` (the recovery ladder: runs, templates, Late Payment Act
base rates) and `flask --app wsgi letters ...` (the daily print batch). Registered by
shared/cli.py."""

from __future__ import annotations

from flask.cli import AppGroup

dunning = AppGroup("dunning", help="The recovery ladder: runs, templates, base rates.")
letters = AppGroup("letters", help="Letters: the daily print batch.")

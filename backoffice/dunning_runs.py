"""Dunning runs: the preview by department and stage (moves, value, skips by reason),
starting a run and watching its progress.
"""

from __future__ import annotations

from backoffice import bp  # noqa: F401

"""The daily print batch of letters: build, check, download, withdraw or release (only
then are its letters posted).
"""

from __future__ import annotations

from backoffice import bp  # noqa: F401

"""Administrators edit each department's recovery ladder (stages, days, channels,
templates, minimum balance, automatic runs) and the message templates (with Welsh
versions, a preview with a real account and the SMS segment count).
"""

from __future__ import annotations

from backoffice import bp  # noqa: F401

"""Messages from the case: an officer sends a letter, email or text from a template
with a preview; the message log per account and overall, with a retry on permanent
failures.
"""

from __future__ import annotations

from backoffice import bp  # noqa: F401

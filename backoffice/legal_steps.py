"""Before court and enforcement: the Letter of Claim and its reply, County Court
judgments, acknowledgements of debt (statute-barred debts), and the Late Payment Act
base-rate table.
"""

from __future__ import annotations

from backoffice import bp  # noqa: F401

"""Direct Debit instructions taken by an officer: by phone (with the read-back script)
or from a signed paper form; a payer's change of bank details or cancellation."""

from backoffice import bp  # noqa: F401

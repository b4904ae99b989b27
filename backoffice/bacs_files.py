"""The day's Bacs collection file: build, check the summary, withdraw or release."""

from backoffice import bp  # noqa: F401

"""Reports from Bacs (AUDDIS, ARUDD, ADDACS, DDIC): upload, and the returns queue."""

from backoffice import bp  # noqa: F401

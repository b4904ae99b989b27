"""Clients for outside services; each turns its provider's errors into one exception type."""

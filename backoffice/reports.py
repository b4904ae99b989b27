"""Slot (issue 15): the generic report pages, being written."""

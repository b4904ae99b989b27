"""Slot for the collection report (issue 15): being written."""

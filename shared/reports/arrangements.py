"""Slot for the arrangements report (issue 15): being written."""

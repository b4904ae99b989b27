"""Slot for the aged_debt report (issue 15): being written."""

"""Slot for the write_offs report (issue 15): being written."""

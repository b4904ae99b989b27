"""Slot for the direct_debit report (issue 15): being written."""

"""Slot for the reconciliation_report report (issue 15): being written."""

"""Slot for the dashboard report (issue 15): being written."""

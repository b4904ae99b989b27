"""Slot for the officer_activity report (issue 15): being written."""

"""Slot for the packs report (issue 15): being written."""

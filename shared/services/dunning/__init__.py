"""The recovery ladder: department policies (policy.py), runs that move overdue invoices up it."""

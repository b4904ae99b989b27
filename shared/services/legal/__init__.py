"""Legal steps of the recovery ladder: Late Payment Act charges and base rates, and the
steps before court and enforcement."""

"""The core of the council debt-recovery product: models, ledger, rules and services.

Imported by both faces (portal/, backoffice/) and the workers; never imports them.
"""

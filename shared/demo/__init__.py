"""Realistic, reproducible demo data: `flask --app wsgi demo seed` and `demo logins`.

See docs/demo-data.md for what the data set contains and how fast it loads.
"""

from shared.demo.catalogue import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from shared.demo.seed import (
    DemoBill,
    DemoLogin,
    Progress,
    demo_bills,
    demo_logins,
    has_debtors,
    seed_demo,
)

__all__ = [
    "DEMO_EMAIL_DOMAIN",
    "DEMO_PASSWORD",
    "DemoBill",
    "DemoLogin",
    "Progress",
    "demo_bills",
    "demo_logins",
    "has_debtors",
    "seed_demo",
]

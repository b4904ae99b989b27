"""Realistic, reproducible demo data: `flask --app wsgi demo seed`, `demo logins`, `demo code`.

See docs/demo-data.md for what the data set contains and how fast it loads.
"""

from shared.demo.catalogue import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from shared.demo.codes import NoDemoCode, demo_code
from shared.demo.direct_debit_named import DemoDirectDebits, demo_direct_debits
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
    "DemoDirectDebits",
    "DemoLogin",
    "NoDemoCode",
    "Progress",
    "demo_bills",
    "demo_code",
    "demo_direct_debits",
    "demo_logins",
    "has_debtors",
    "seed_demo",
]

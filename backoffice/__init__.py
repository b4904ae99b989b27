"""The back office: recovery officers and team leaders work cases."""

from flask import Blueprint

bp = Blueprint("backoffice", __name__)

from backoffice import (  # noqa: E402,F401
    approvals,
    audit,
    auth,
    contacts,
    holds,
    payments,
    staff_admin,
    views,
)

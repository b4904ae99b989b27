"""The public portal: debtors find, pay and manage what they owe."""

from flask import Blueprint

bp = Blueprint("portal", __name__)

from portal import account, auth, direct_debit, pay, plans, views  # noqa: E402,F401

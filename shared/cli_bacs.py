"""`flask --app wsgi bacs ...`: Direct Debit from the command line (modulus checks,
the day's collection file, reports from Bacs). Registered by shared/cli.py."""

from __future__ import annotations

import click
from flask.cli import AppGroup

bacs = AppGroup("bacs", help="Bacs Direct Debit: account checks, collection files, reports.")


@bacs.command("reencrypt-bank-details")
def reencrypt_bank_details_command() -> None:
    """Re-encrypt every payer's bank details under the first BANK_DETAILS_ENCRYPTION_KEYS key."""
    from shared.models.encrypted import UndecryptableValue
    from shared.services.directdebit.bank_details import reencrypt_bank_details

    try:
        changed = reencrypt_bank_details()
    except UndecryptableValue as exc:
        raise click.ClickException(f"{exc} Nothing was changed.") from None
    click.echo(f"Re-encrypted the bank details of {changed} mandate{'' if changed == 1 else 's'}.")

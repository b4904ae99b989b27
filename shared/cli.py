"""Flask CLI commands: one per batch job (`flask --app wsgi demo seed ...`)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

demo = AppGroup("demo", help="Demo data.")


@demo.command("seed")
@click.option(
    "--debtors",
    type=click.IntRange(min=0),
    default=1_000,
    show_default=True,
    help="How many debtor accounts to add (about 5 invoices each).",
)
@click.option(
    "--seed",
    "seed",
    type=int,
    default=1,
    show_default=True,
    help="Random seed: the same seed on an empty database gives the same data.",
)
@click.option(
    "--if-empty", is_flag=True, help="Do nothing if any debtor account exists (for `make run`)."
)
def seed_command(debtors: int, seed: int, if_empty: bool) -> None:
    """Add realistic demo departments, staff, debtors, invoices, payments and history."""
    # Imported here so every other command starts without loading Faker.
    from shared.demo import has_debtors, seed_demo

    if if_empty and has_debtors():
        click.echo("Demo data not seeded: the database already has debtor accounts.")
        return

    def report(p) -> None:
        click.echo(
            f"  {p.debtors_done:>9,} / {p.debtors_total:,} debtors  {p.rows_written:>11,} rows  "
            f"{p.rows_per_second:>9,.0f} rows/s",
            err=True,
        )

    started = time.perf_counter()
    counts = seed_demo(debtors, seed=seed, progress=report)
    elapsed = time.perf_counter() - started
    click.echo(f"Seeded {debtors:,} demo debtors (seed {seed}) in {elapsed:.1f} s:")
    width = max(len(table) for table in counts)
    for table, count in counts.items():
        click.echo(f"  {table:<{width}}  {count:>11,}")
    click.echo(f"  {'total rows':<{width}}  {sum(counts.values()):>11,}")


@demo.command("logins")
def logins_command() -> None:
    """List the demo staff logins (email, role, password)."""
    from shared.demo import demo_bills, demo_logins
    from shared.money import format_gbp

    logins = demo_logins()
    if not logins:
        click.echo("No demo logins yet: run `flask --app wsgi demo seed` first.")
        return
    rows = [("Email", "Role", "Password")] + [(x.email, x.role, x.password) for x in logins]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for n, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            click.echo("  ".join("-" * w for w in widths))
    click.echo("")
    click.echo(
        "Each login sets up an authenticator app (QR code) the first time it signs in.\n"
        "Without an app, `flask --app wsgi demo code EMAIL` prints the code to type."
    )
    bills = demo_bills()
    if bills:
        click.echo("")
        click.echo("Bills to try paying at /pay (invoice number and postcode):")
        for bill in bills:
            owed = format_gbp(bill.outstanding_pence)
            click.echo(f"  {bill.invoice_number}  {bill.postcode:<8}  {owed} to pay")
        with_email = next((b for b in bills if b.email_on_file), None)
        if with_email is not None:
            click.echo("")
            click.echo(
                "To see Your account, create a login at /account/create with account "
                f"reference {with_email.account_reference} and postcode {with_email.postcode}; "
                "the security code arrives in the email viewer."
            )


@demo.command("code")
@click.argument("email")
def code_command(email: str) -> None:
    """Print the current authenticator code for a demo login (demo logins only)."""
    from shared.demo import NoDemoCode, demo_code

    try:
        code = demo_code(email)
    except NoDemoCode as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(code)


payments = AppGroup("payments", help="Card payments.")


@payments.command("reconcile")
@click.option(
    "--older-than-minutes",
    type=click.IntRange(min=0),
    default=15,
    show_default=True,
    help="Only checkouts started at least this long ago.",
)
def reconcile_command(older_than_minutes: int) -> None:
    """Settle card checkouts whose webhook never came, by asking the provider."""
    from datetime import timedelta

    from flask import current_app

    from shared.integrations.payments import PaymentGateway
    from shared.services.card_payments import reconcile_checkouts

    counts = reconcile_checkouts(
        PaymentGateway.from_config(current_app.config),
        older_than=timedelta(minutes=older_than_minutes),
    )
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


outbox = AppGroup("outbox", help="Email and SMS delivery.")


@outbox.command("send-pending")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="At most this many messages, oldest first.",
)
def send_pending_command(limit: int) -> None:
    """Deliver pending email and SMS now, in this process (no worker or Redis needed)."""
    from shared.jobs.outbox import send_pending

    counts = send_pending(limit=limit)
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()))


plans = AppGroup("plans", help="Instalment plans.")


@plans.command("monitor")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to monitor for, YYYY-MM-DD (default today).",
)
def monitor_command(day) -> None:
    """Read payments into active plans: remind missed payments, break and complete plans."""
    from shared.services.plan_monitor import run

    started = time.perf_counter()
    counts = run(day.date() if day else None)
    elapsed = time.perf_counter() - started
    click.echo(", ".join(f"{k} {v}" for k, v in counts.as_dict().items()) + f" ({elapsed:.1f} s)")


staff = AppGroup("staff", help="Back-office staff.")


@staff.command("reencrypt-totp")
def reencrypt_totp_command() -> None:
    """Re-encrypt every authenticator secret under the first TOTP_ENCRYPTION_KEYS key."""
    from shared.models.encrypted import UndecryptableValue
    from shared.services.staff_secrets import reencrypt_totp_secrets

    try:
        changed = reencrypt_totp_secrets()
    except UndecryptableValue as exc:
        raise click.ClickException(f"{exc} Nothing was changed.") from None
    click.echo(f"Re-encrypted {changed} authenticator secret{'' if changed == 1 else 's'}.")


imports = AppGroup("import", help="Files in from outside: bank statements.")


@imports.command("bank-statement")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "statement_format",
    type=click.Choice(["camt053", "bai2", "csv"]),
    default=None,
    help="The file's format (default: told from its content).",
)
def import_bank_statement_command(file: Path, statement_format: str | None) -> None:
    """Import a bank statement (camt.053, BAI2 or the bank CSV layout), post the lines
    that match, and print the matching summary."""
    from shared.formatting import london_time
    from shared.services.actors import SYSTEM
    from shared.services.bank_statements import importer, reads
    from shared.services.errors import ServiceError

    started = time.perf_counter()
    try:
        result = importer.import_statement(
            file.read_bytes(), actor=SYSTEM, file_name=file.name, format=statement_format
        )
    except ServiceError as exc:
        raise click.ClickException(f"{file.name}: {exc}. Nothing was imported.") from None
    summary = reads.import_summary(result.import_id)
    if not result.created:
        click.echo(
            f"{file.name} was imported before (import {summary.import_id}, "
            f"{london_time(summary.imported_at)}): nothing posted again."
        )
    for line in reads.summary_lines(summary):
        click.echo(line)
    click.echo(f"({time.perf_counter() - started:.1f} s)")


@click.command("grant-runtime")
def grant_runtime_command() -> None:
    """Grant DATABASE_URL's role what the app needs, as MIGRATION_DATABASE_URL's owner role."""
    from flask import current_app

    from shared.db_roles import grant_runtime_role, migration_engine
    from shared.extensions import db

    engine = migration_engine(current_app)
    if engine is None:
        raise click.ClickException(
            "MIGRATION_DATABASE_URL is not set: with one role there is nothing to grant "
            "(docs/operations.md sets up the owner and runtime roles)"
        )
    try:
        with engine.begin() as connection:
            statements = grant_runtime_role(connection, current_app, db.metadata)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    if not statements:
        click.echo("DATABASE_URL and MIGRATION_DATABASE_URL use the same role: nothing to grant.")
        return
    grants = [s for s in statements if s.startswith("GRANT") and " ON TABLE " in s]
    click.echo(f"Granted the runtime role its privileges on {len(grants)} tables.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(payments)
    app.cli.add_command(outbox)
    app.cli.add_command(plans)
    app.cli.add_command(staff)
    app.cli.add_command(imports)
    # Beside `db upgrade`, which applies the same grants after migrating.
    from flask_migrate.cli import db as db_group

    db_group.add_command(grant_runtime_command)

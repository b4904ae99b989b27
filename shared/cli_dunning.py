"""`flask --app wsgi dunning ...` (the recovery ladder: runs, templates, Late Payment Act
base rates) and `flask --app wsgi letters ...` (the daily print batch). Registered by
shared/cli.py."""

from __future__ import annotations

import click
from flask.cli import AppGroup

dunning = AppGroup("dunning", help="The recovery ladder: runs, templates, base rates.")
letters = AppGroup("letters", help="Letters: the daily print batch.")


@dunning.command("install-defaults")
def install_defaults_command() -> None:
    """Store the default message templates that are missing (never overwriting an edited
    one) and give every department without a recovery ladder the standard one."""
    import click

    from shared.services.actors import SYSTEM
    from shared.services.messages.templates import install_defaults

    counts = install_defaults(SYSTEM)
    click.echo(
        f"Templates: {counts.templates_added} added, {counts.templates_kept} already there "
        f"(left as they are). Recovery ladders: {counts.policies_added} added."
    )


@dunning.command("run")
@click.option("--date", "day", default=None, help="The run date, YYYY-MM-DD (default: today).")
@click.option("--dry-run", is_flag=True, help="Print the preview only: nothing is moved or sent.")
def run_command(day: str | None, dry_run: bool) -> None:
    """Run the recovery ladder for a date: print the preview (by department and stage:
    moves, value, skips by reason) and, unless --dry-run, execute it and print the result."""
    from shared import clock
    from shared.domain.dates import parse_day
    from shared.services.actors import SYSTEM
    from shared.services.dunning import reports, runs

    try:
        on = parse_day(day) if day else clock.today()
    except ValueError:
        raise click.ClickException(
            f"--date must be a real date like 2026-06-17, not {day!r}. Nothing was run."
        ) from None
    if on > clock.today() and not dry_run:
        raise click.ClickException(
            f"{on:%Y-%m-%d} is in the future: a run chases only what is due by today. "
            "Use --dry-run to preview a later date."
        )
    preview = runs.preview(on)
    click.echo(f"Recovery ladder for {on:%Y-%m-%d}: preview")
    click.echo(reports.table(preview.outcome))
    if dry_run:
        click.echo("Dry run: nothing was moved or sent.")
        return
    result = runs.execute(on, SYSTEM)
    if result.already_run:
        click.echo(f"The run for {on:%Y-%m-%d} was completed already: nothing more was done.")
    click.echo(f"Run {result.run_id} for {on:%Y-%m-%d}: {result.status.value}")
    click.echo(reports.table(result.outcome, messages=True))


# --- letters: the daily print batch (shared/services/messages/print_batches.py) ---------


@letters.command("build-batch")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The batch's date (default: today in England).",
)
def build_batch_command(on) -> None:
    """Build the print batch of every letter waiting: one merged PDF and a manifest CSV."""
    from shared.services.actors import SYSTEM
    from shared.services.messages import print_batches

    try:
        built = print_batches.build_batch(SYSTEM, on.date() if on else None)
    except print_batches.NothingWaiting as exc:
        click.echo(f"{exc}.")
        return
    batch = built.batch
    click.echo(f"{built.message}.")
    click.echo(f"Letters: {batch.letter_count}")
    click.echo(f"Pages: {batch.page_count}")
    click.echo(f"PDF: {batch.pdf_path}")
    click.echo(f"Manifest: {batch.manifest_path}")
    click.echo(f"SHA-256: {batch.pdf_sha256}")


@letters.command("list")
def list_command() -> None:
    """The letters waiting for the next batch, by template, and the recent batches."""
    from shared.services.messages import print_batches

    waiting = print_batches.waiting_by_template()
    total = sum(count for _, count in waiting)
    click.echo(f"Letters waiting: {total}")
    for template, count in waiting:
        click.echo(f"  {template}: {count}")
    for batch in print_batches.recent_batches():
        click.echo(
            f"Batch {batch.name}: {batch.status.value}, {batch.letter_count} letters, "
            f"{batch.page_count} pages, {batch.pdf_path}"
        )

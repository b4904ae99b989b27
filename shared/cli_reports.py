"""`flask --app wsgi reports <report> --format csv|xlsx|text ...`: every registered
management report (shared/reports/registry.py) on the command line, with the same
filters as its page, plus `reports list`. Registered by shared/cli.py."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, with_appcontext


def _report_command(key: str) -> click.Command:
    @click.command(key)
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["csv", "xlsx", "text"]),
        default="text",
        show_default=True,
        help="csv and text go to standard output unless --output is given; xlsx needs --output.",
    )
    @click.option("--as-at", "as_at", default=None, help="The date the figures are as at.")
    @click.option("--from", "date_from", default=None, help="The first day of the period.")
    @click.option("--to", "date_to", default=None, help="The last day of the period.")
    @click.option(
        "--year", default=None, help="The financial year: 2026 is April 2026 to March 2027."
    )
    @click.option("--department", default=None, help="A department's code (default: all).")
    @click.option(
        "--param", "params", multiple=True, metavar="NAME=VALUE", help="A report's own filter."
    )
    @click.option("--table", "table_key", default=None, help="Only this table (CSV and text).")
    @click.option("--output", type=click.Path(dir_okay=False, writable=True), default=None)
    @with_appcontext
    def command(fmt, as_at, date_from, date_to, year, department, params, table_key, output):
        from shared import clock
        from shared.reports.export import UnknownTable, to_csv, to_text, to_xlsx
        from shared.services import reports as report_service

        args = {
            name: value
            for name, value in (
                ("as_at", as_at),
                ("from", date_from),
                ("to", date_to),
                ("year", year),
                ("department", department),
            )
            if value is not None
        }
        for pair in params:
            name, sep, value = pair.partition("=")
            if not sep or not name:
                raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--param")
            args[name] = value
        outcome = report_service.run_report(
            key, args, today=clock.today(), role="admin", staff_id=None
        )
        if outcome.errors:
            raise click.ClickException(
                "; ".join(f"{name}: {message}" for name, message in outcome.errors.items())
                + ". Nothing was written."
            )
        try:
            if fmt == "xlsx":
                if output is None:
                    raise click.ClickException("--format xlsx needs --output FILE.xlsx")
                body: bytes | str = to_xlsx(outcome.result)
            elif fmt == "csv":
                body = to_csv(outcome.result, table_key)
            else:
                body = to_text(outcome.result, table_key)
        except UnknownTable as exc:
            raise click.ClickException(str(exc)) from None
        if output is None:
            if isinstance(body, bytes):
                sys.stdout.buffer.write(body)
            else:
                click.echo(body, nl=False)
        else:
            with open(output, "wb") as out:
                out.write(body if isinstance(body, bytes) else body.encode("utf-8"))
            click.echo(f"Wrote {outcome.result.title} to {output}", err=True)

    return command


class _ReportsGroup(AppGroup):
    """Its subcommands are the registered reports, found when asked for (so `flask
    --help` does not import them), plus the commands added to the group directly."""

    def list_commands(self, ctx):
        from shared.reports.registry import all_reports

        return sorted(set(super().list_commands(ctx)) | {r.key for r in all_reports()})

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        from shared.reports.registry import get_report

        report = get_report(name)
        if report is None:
            return None
        command = _report_command(name)
        command.help = f"{report.title}: {report.description}"
        return command


reports = _ReportsGroup("reports", help="Management reports, as CSV, XLSX or text.")


@reports.command("list")
def list_command() -> None:
    """Every report, with the filters it takes."""
    from shared.reports.registry import all_reports

    for report in all_reports():
        uses = ", ".join(f"--{u.replace('_', '-')}" for u in sorted(report.uses)) or "none"
        click.echo(f"{report.key:24} {report.title} (filters: {uses})")


@reports.command("send-packs")
@click.option(
    "--month",
    default=None,
    metavar="YYYY-MM",
    help="The month to send, e.g. 2026-05 (default: last month). It must have ended.",
)
def send_packs_command(month: str | None) -> None:
    """Send each department's monthly report pack for a month that has ended (those not
    sent yet; a pack that failed is built again), as the scheduled job does on the 1st."""
    from shared import clock
    from shared.reports.packs import parse_month
    from shared.services import report_packs
    from shared.services.actors import SYSTEM
    from shared.services.errors import InvalidRequest

    today = clock.today()
    try:
        first = parse_month(month) if month else report_packs.last_month(today)
        result = report_packs.send_monthly_packs(first, SYSTEM)
    except ValueError as exc:
        raise click.BadParameter(f"{exc}. Nothing was sent.", param_hint="--month") from None
    except InvalidRequest as exc:
        raise click.ClickException(f"{exc}. Nothing was sent.") from None
    click.echo(f"Report packs for {result.month:%B %Y}:")
    words = {
        "queued": "sent to {sent_to} ({pages} pages)",
        "no_contact": "built ({pages} pages), not sent: the department has no contact email",
        "failed": "FAILED: {error} (the next run tries again)",
        "already": "already done before: nothing sent",
    }
    for o in result.outcomes:
        line = words[o.status].format(sent_to=o.sent_to, pages=o.page_count, error=o.error)
        click.echo(f"  {o.department_code:10} {o.department_name}: {line}")
    if not result.outcomes:
        click.echo("  No department had raised an invoice by the end of the month.")
    if result.count("failed"):
        sys.exit(1)

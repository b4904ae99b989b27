"""Flask CLI commands: one per batch job (`flask --app wsgi demo seed ...`)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

demo = AppGroup("demo", help="Demo data.")


def register_cli(app: Flask) -> None:
    app.cli.add_command(demo)

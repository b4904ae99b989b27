"""The README says what exists today, never more: every file it points at and every
command it tells a person to run must be there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.config import PROJECT_ROOT, load_config

README = Path(PROJECT_ROOT, "README.md").read_text()
DOCS = [README, *(p.read_text() for p in Path(PROJECT_ROOT, "docs").glob("*.md"))]

# `portal/`, `shared/services/ledger.py`, `docs/operations.md`: anything in backticks that is
# a path inside the repository (a slash or a known suffix, no spaces, no URL, no placeholder).
_PATH = re.compile(r"`([A-Za-z0-9_.\-/]+(?:/|\.py|\.md|\.sh|\.toml|Procfile(?:\.dev)?))`")


def _readme_paths() -> list[str]:
    found = set()
    for token in _PATH.findall(README):
        if token.startswith(("/", "http", ".venv")) or token.count("/") == 0 and "." not in token:
            continue
        found.add(token)
    return sorted(found)


@pytest.mark.parametrize("path", _readme_paths())
def test_every_path_the_readme_names_exists(path):
    # A table row names a folder and then its files by bare name (`ledger.py`), so a bare
    # name counts when it is somewhere under a folder of the project's own.
    root = Path(PROJECT_ROOT)
    name = path.rstrip("/")
    found = (root / path).exists() or any(
        hit
        for top in ("shared", "portal", "backoffice", "devtools", "tests", "docs", "scripts")
        for hit in (root / top).rglob(name)
    )
    assert found, f"README names {path}, which does not exist"


def _flask_commands() -> list[tuple[str, ...]]:
    commands = set()
    for text in DOCS:
        for match in re.finditer(
            r"flask --app wsgi ((?:[a-z][a-z0-9-]*)(?: [a-z][a-z0-9-]*)?)", text
        ):
            words = tuple(match.group(1).split())
            commands.add(words)
    return sorted(commands)


@pytest.mark.parametrize("words", _flask_commands(), ids=" ".join)
def test_every_flask_command_the_docs_name_is_registered(words):
    import click
    from flask.cli import FlaskGroup, ScriptInfo

    from shared.app import create_app

    app = create_app(load_config(environ={}, APP_ENV="test", DATABASE_URL="sqlite://"))
    # What `flask --app wsgi` sees: the app's own commands plus plugins such as Flask-Migrate's db.
    group = FlaskGroup(create_app=lambda: app)
    ctx = click.Context(group, obj=ScriptInfo(create_app=lambda: app))
    command = group.get_command(ctx, words[0])
    assert command is not None, f"no `flask {words[0]}` command"
    if len(words) > 1 and isinstance(command, click.Group):
        assert command.get_command(ctx, words[1]) is not None, f"no `flask {' '.join(words)}`"


def test_the_readme_does_not_promise_what_is_still_to_come():
    # Issue 16's rest is open: the README may name it only as still to come.
    claims = README.split("Still to come", 1)[0]
    for unbuilt in ("timeline event",):
        assert unbuilt not in claims, f"README claims {unbuilt!r} before saying it is still to come"

"""A process started with bad configuration stops with one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.production_settings import PRODUCTION_ENVIRON

ROOT = Path(__file__).resolve().parents[2]


def start(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "APP_", "SECRET_"))
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "current"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env, expected",
    [
        (
            {"DATABASE_URL": "postgresql://recovery:hunter2@127.0.0.1:1/recovery"},
            "Configuration error: cannot connect to the database at postgresql+psycopg://recovery:***@127.0.0.1:1/recovery",
        ),
        (
            {"REDIS_URL": "redis://localhost:notaport/0"},
            "Configuration error: REDIS_URL is malformed",
        ),
        (
            {"REDIS_URL": "localhost:6379"},
            "Configuration error: REDIS_URL must start with redis://",
        ),
        ({"DATABASE_URL": "mysql://db/x"}, "Configuration error: DATABASE_URL must start with"),
        ({"APP_ENV": "production"}, "Configuration error: SECRET_KEY is the development default"),
        (
            {**PRODUCTION_ENVIRON, "STRIPE_WEBHOOK_SECRET": "whsec_local_development"},
            "Configuration error: STRIPE_WEBHOOK_SECRET is the development secret published",
        ),
        (
            {**PRODUCTION_ENVIRON, "TWILIO_API_BASE": "http://127.0.0.1:8430"},
            "Configuration error: TWILIO_API_BASE points at a local stand-in",
        ),
    ],
)
def test_bad_configuration_gives_one_clear_line_and_a_failing_exit(env, expected):
    result = start(env)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr

"""/healthz: is the database reachable, is Redis reachable. JSON for load balancers."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from shared.extensions import db

bp = Blueprint("health", __name__)


def database_status() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any failure is a status to report, not a crash
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def redis_status() -> str:
    from shared.jobs.queues import redis_connection

    try:
        redis_connection(current_app.config["REDIS_URL"], socket_timeout=1).ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


@bp.get("/healthz")
def healthz():
    checks = {"database": database_status(), "redis": redis_status()}
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "degraded", **checks), (200 if healthy else 503)

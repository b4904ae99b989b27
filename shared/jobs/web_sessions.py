"""Deleting old signed-in session records (shared/services/web_sessions.py), daily.

A record that ended, or was last used, more than web_sessions.KEEP_DAYS ago can
never be live again and has served its purpose ("where was I signed in").
"""

from __future__ import annotations

from flask import has_app_context

from shared.jobs.context import app_context


def delete_old_web_sessions() -> int:
    """Delete session records past keeping; returns how many went."""
    from shared.services import web_sessions

    if has_app_context():
        return web_sessions.delete_old()
    with app_context():
        return web_sessions.delete_old()

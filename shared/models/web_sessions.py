"""Signed-in browser sessions, kept on the server so that ending one is for good.

The browser's signed cookie carries a random token; only its SHA-256 is stored
here, so a copy of this table lets nobody sign in. A row is made when a sign-in
completes (for staff: when the authenticator code is accepted) and ended, with
the reason, by signing out, signing out everywhere, a new password, or the idle
and absolute time limits. An ended row never comes back to life.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import created_at_column, enum_type


class WebSessionKind(enum.StrEnum):
    STAFF = "staff"  # the back office
    PORTAL = "portal"  # the public portal


class WebSessionEnd(enum.StrEnum):
    SIGNED_OUT = "signed_out"  # the person signed out in this browser
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"  # they ended all their sessions
    PASSWORD_CHANGED = "password_changed"  # a new password ends the sessions of the old
    IDLE = "idle"  # nothing done for longer than SESSION_IDLE_MINUTES
    LIFETIME = "lifetime"  # older than STAFF_/PORTAL_SESSION_MAX_HOURS, however busy


class WebSession(db.Model):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 (hex) of the token in the cookie; the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[WebSessionKind] = mapped_column(enum_type(WebSessionKind, "web_session_kind"))
    staff_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"), index=True)
    portal_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("portal_users.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()
    # Written at most about once a minute, so it is as fine-grained as the idle check.
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime())
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    end_reason: Mapped[WebSessionEnd | None] = mapped_column(
        enum_type(WebSessionEnd, "web_session_end")
    )
    # For the person's own "where am I signed in"; as the browser said, cut to fit.
    user_agent: Mapped[str | None] = mapped_column(sa.String(200))
    source_ip: Mapped[str | None] = mapped_column(sa.String(45))

    __table_args__ = (
        sa.CheckConstraint(
            "(kind = 'staff' AND staff_user_id IS NOT NULL AND portal_user_id IS NULL)"
            " OR (kind = 'portal' AND portal_user_id IS NOT NULL AND staff_user_id IS NULL)",
            name="one_user_of_its_kind",
        ),
        sa.CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_with_a_reason"),
    )

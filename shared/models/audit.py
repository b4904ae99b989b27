"""The audit log: who did what to which record, when and from where. Append-only."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.base import enum_type, utcnow


class ActorType(enum.StrEnum):
    STAFF = "staff"
    PORTAL_USER = "portal_user"
    SYSTEM = "system"


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, index=True)
    actor_type: Mapped[ActorType] = mapped_column(enum_type(ActorType, "actor_type"))
    # No foreign keys: the audit trail must outlive whatever it describes.
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(80))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str | None] = mapped_column(sa.String(40))
    account_id: Mapped[int | None] = mapped_column(index=True)
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    source_ip: Mapped[str | None] = mapped_column(sa.String(45))

    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),)

"""Who is acting: a member of staff, a portal user or the system itself."""

from __future__ import annotations

from dataclasses import dataclass

from shared.models import ActorType


@dataclass(frozen=True)
class Actor:
    type: ActorType
    id: int | None = None
    source_ip: str | None = None

    @property
    def staff_id(self) -> int | None:
        return self.id if self.type == ActorType.STAFF else None

    @property
    def portal_user_id(self) -> int | None:
        return self.id if self.type == ActorType.PORTAL_USER else None


SYSTEM = Actor(ActorType.SYSTEM)


def staff(staff_id: int, source_ip: str | None = None) -> Actor:
    return Actor(ActorType.STAFF, staff_id, source_ip)


def portal_user(user_id: int, source_ip: str | None = None) -> Actor:
    return Actor(ActorType.PORTAL_USER, user_id, source_ip)

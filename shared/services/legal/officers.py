"""Who may record legal steps (staff whose role has RECORD_LEGAL_STEPS), and a refusal
that names the field at fault."""

from __future__ import annotations

from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import StaffUser
from shared.services.actors import Actor
from shared.services.errors import Forbidden, InvalidRequest


def legal_recorder(actor: Actor) -> StaffUser:
    """The active member of staff acting, if they may record legal steps (else Forbidden)."""
    user = db.session.get(StaffUser, actor.staff_id) if actor.staff_id else None
    if user is None or not user.active or not role_has(user.role, Permission.RECORD_LEGAL_STEPS):
        raise Forbidden("You do not have permission to record legal steps")
    return user


class Refused(InvalidRequest):
    """The step was not recorded; `problems` maps each form field to what is wrong."""

    def __init__(self, problems: dict[str, str]):
        self.problems = dict(problems)
        super().__init__(next(iter(self.problems.values())))

"""Each service department's recovery ladder, kept by an administrator.

A department has at most one policy (its stages in ladder order, the minimum balance
below which nothing is sent, and whether the daily scheduled run covers it). Until
it has one, runs leave its debts alone; `install_defaults` gives every department
the standard ladder. Every change is one transaction with an audit row carrying the
ladder before and after; a policy is a setting, not any debtor's business, so no
timeline is written. A form posted against an older version is refused and changes
nothing (someone else saved in between).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from shared.domain import dunning_policy as rules
from shared.domain.dunning_policy import Stage, StageInput
from shared.extensions import db
from shared.models import (
    DunningPolicy,
    DunningStage,
    Language,
    MessageTemplate,
    RecoveryStage,
    ServiceDepartment,
    StaffUser,
)
from shared.services.actors import Actor
from shared.services.errors import Conflict, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.unit_of_work import use_case

__all__ = [
    "PolicyConflict",
    "PolicyRefused",
    "PolicyView",
    "StageInput",
    "add_default_policies",
    "english_templates",
    "list_policies",
    "policy_for",
    "save_policy",
]


class PolicyRefused(InvalidRequest):
    """The ladder cannot be saved as asked; `problems` names each field at fault."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(next(iter(problems.values())))
        self.problems = problems


class PolicyConflict(Conflict):
    """Someone else saved the policy since the form was shown: nothing was changed."""


@dataclass(frozen=True)
class PolicyView:
    department_id: int
    department_name: str
    department_code: str
    exists: bool  # False: no ladder yet (runs leave the department alone)
    version: int  # 0 until the policy exists
    minimum_balance_pence: int
    automatic: bool
    stages: tuple[Stage, ...]
    updated_at: datetime | None
    updated_by: str | None

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.stage == name), None)


def _stages_of(policy: DunningPolicy) -> tuple[Stage, ...]:
    return tuple(
        Stage(
            str(s.stage),
            s.days_after_due,
            tuple(s.channels or ()),
            s.template_key,
        )
        for s in sorted(policy.stages, key=lambda s: s.position)
    )


def _view(
    department: ServiceDepartment, policy: DunningPolicy | None, updated_by: str | None
) -> PolicyView:
    if policy is None:
        return PolicyView(
            department_id=department.id,
            department_name=department.name,
            department_code=department.code,
            exists=False,
            version=0,
            minimum_balance_pence=rules.DEFAULT_MINIMUM_BALANCE_PENCE,
            automatic=rules.DEFAULT_AUTOMATIC,
            stages=(),
            updated_at=None,
            updated_by=None,
        )
    return PolicyView(
        department_id=department.id,
        department_name=department.name,
        department_code=department.code,
        exists=True,
        version=policy.version,
        minimum_balance_pence=policy.minimum_balance_pence,
        automatic=policy.automatic,
        stages=_stages_of(policy),
        updated_at=policy.updated_at,
        updated_by=updated_by,
    )


def _rows(department_id: int | None = None):
    query = (
        sa.select(ServiceDepartment, DunningPolicy, StaffUser.full_name)
        .outerjoin(DunningPolicy, DunningPolicy.department_id == ServiceDepartment.id)
        .outerjoin(StaffUser, StaffUser.id == DunningPolicy.updated_by_staff_id)
        .options(sa.orm.selectinload(DunningPolicy.stages))
        .order_by(ServiceDepartment.name, ServiceDepartment.id)
    )
    if department_id is not None:
        query = query.where(ServiceDepartment.id == department_id)
    return db.session.execute(query).all()


def list_policies() -> list[PolicyView]:
    """Every service department with its ladder (or none yet), by department name."""
    return [_view(d, p, who) for d, p, who in _rows()]


def policy_for(department_id: int) -> PolicyView:
    """The department's ladder; `exists` is False if it has none yet."""
    rows = _rows(department_id)
    if not rows:
        raise NotFound(f"No service department {department_id}")
    return _view(*rows[0])


def english_templates() -> set[tuple[str, str]]:
    """(key, channel) of every English template: what a stage may name."""
    return {
        (key, str(channel))
        for key, channel in db.session.execute(
            sa.select(MessageTemplate.key, MessageTemplate.channel).where(
                MessageTemplate.language == Language.ENGLISH
            )
        )
    }


def _as_audit(
    minimum_balance_pence: int, automatic: bool, stages: Sequence[Stage]
) -> dict[str, object]:
    return {
        "minimum_balance_pence": minimum_balance_pence,
        "automatic": automatic,
        "stages": [
            {
                "stage": s.stage,
                "days_after_due": s.days_after_due,
                "channels": list(s.channels),
                "template_key": s.template_key,
            }
            for s in stages
        ],
    }


def _set_stages(policy: DunningPolicy, stages: Sequence[Stage]) -> None:
    # The old rungs go first: (policy, stage) and (policy, position) are unique, and
    # a flush inserts before it deletes.
    policy.stages.clear()
    db.session.flush()
    for position, stage in enumerate(stages, start=1):
        policy.stages.append(
            DunningStage(
                stage=RecoveryStage(stage.stage),
                position=position,
                days_after_due=stage.days_after_due,
                channels=list(stage.channels),
                template_key=stage.template_key,
            )
        )


@use_case
def save_policy(
    actor: Actor,
    department_id: int,
    expected_version: int,
    minimum_balance_pence: int,
    automatic: bool,
    stages: Sequence[StageInput],
) -> PolicyView:
    """Set a department's ladder (creating it if it has none: expected_version 0)."""
    problems = rules.policy_problems(
        minimum_balance_pence=minimum_balance_pence,
        automatic=automatic,
        stages=stages,
        template_exists=lambda key, channel, known=english_templates(): (key, channel) in known,
    )
    if problems:
        raise PolicyRefused(problems)
    department = db.session.execute(
        sa.select(ServiceDepartment).where(ServiceDepartment.id == department_id)
    ).scalar_one_or_none()
    if department is None:
        raise NotFound(f"No service department {department_id}")
    policy = db.session.execute(
        sa.select(DunningPolicy)
        .where(DunningPolicy.department_id == department_id)
        .with_for_update()
    ).scalar_one_or_none()
    current = policy.version if policy is not None else 0
    if expected_version != current:
        raise PolicyConflict(
            f"Someone else changed the recovery ladder for {department.name} while you were "
            "editing it. Nothing was saved: check the ladder as it is now and make your "
            "changes again"
        )
    new_stages = rules.cleaned(stages)
    after = _as_audit(minimum_balance_pence, automatic, new_stages)
    if policy is None:
        before = None
        policy = DunningPolicy(department_id=department_id, version=1)
        db.session.add(policy)
    else:
        before = _as_audit(policy.minimum_balance_pence, policy.automatic, _stages_of(policy))
        if before == after:
            db.session.commit()  # nothing to change: no new version, no audit row
            return policy_for(department_id)
        policy.version = policy.version + 1
    policy.minimum_balance_pence = minimum_balance_pence
    policy.automatic = automatic
    policy.updated_by_staff_id = actor.staff_id
    try:
        db.session.flush()
        _set_stages(policy, new_stages)
        db.session.flush()
    except IntegrityError:
        # Another administrator created this department's policy at the same moment.
        db.session.rollback()
        raise PolicyConflict(
            f"Someone else saved a recovery ladder for {department.name} at the same time. "
            "Nothing was saved: check the ladder as it is now"
        ) from None
    record_audit(
        actor,
        "dunning_policy.created" if before is None else "dunning_policy.changed",
        "dunning_policy",
        policy.id,
        before=before and {"department_id": department_id, **before},
        after={"department_id": department_id, "version": policy.version, **after},
    )
    db.session.commit()
    return policy_for(department_id)


def add_default_policies(actor: Actor) -> int:
    """Give every department without a ladder the standard one, in the caller's
    transaction (no commit); how many were added."""
    missing = db.session.scalars(
        sa.select(ServiceDepartment.id)
        .where(~sa.exists().where(DunningPolicy.department_id == ServiceDepartment.id))
        .order_by(ServiceDepartment.id)
    ).all()
    for department_id in missing:
        policy = DunningPolicy(
            department_id=department_id,
            minimum_balance_pence=rules.DEFAULT_MINIMUM_BALANCE_PENCE,
            automatic=rules.DEFAULT_AUTOMATIC,
            version=1,
            updated_by_staff_id=actor.staff_id,
        )
        db.session.add(policy)
        db.session.flush()
        _set_stages(policy, rules.DEFAULT_STAGES)
        db.session.flush()
        record_audit(
            actor,
            "dunning_policy.created",
            "dunning_policy",
            policy.id,
            after={
                "department_id": department_id,
                "version": 1,
                "default": True,
                **_as_audit(
                    rules.DEFAULT_MINIMUM_BALANCE_PENCE,
                    rules.DEFAULT_AUTOMATIC,
                    rules.DEFAULT_STAGES,
                ),
            },
        )
    return len(missing)

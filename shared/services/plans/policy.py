"""Plan policy, one row per service department: what the rules are that approve a
proposal or refer it, as an admin edits them and as a proposal is checked against
them. A department with no row has the default policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from shared.domain import plan_policy
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import PlanPolicy, ServiceDepartment
from shared.services.actors import Actor
from shared.services.errors import Forbidden, InvalidRequest, NotFound
from shared.services.history import record_audit
from shared.services.plans import _common
from shared.services.unit_of_work import use_case

# Above this total a team leader decides, where a department has no policy row.
DEFAULT_TEAM_LEADER_ABOVE_PENCE = 300_000


@dataclass(frozen=True)
class PolicyValues:
    """A department's plan policy as an admin edits it (money in pence)."""

    max_length_months: int
    min_instalment_pence: int
    max_auto_approve_pence: int
    no_broken_plan_within_months: int
    refer_if_legal: bool
    income_expenditure_above_pence: int
    team_leader_above_pence: int

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def of(cls, row: PlanPolicy | None) -> PolicyValues:
        """A stored policy's values, or the default's where the department has none."""
        if row is None:
            d = plan_policy.DEFAULT_POLICY
            return cls(
                d.max_length_months,
                d.min_instalment_pence,
                d.max_auto_approve_pence,
                d.no_broken_plan_within_months,
                d.refer_if_legal,
                d.income_expenditure_above_pence,
                DEFAULT_TEAM_LEADER_ABOVE_PENCE,
            )
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def department_rules(
    department_ids: Sequence[int],
) -> dict[int, tuple[plan_policy.PlanPolicy, int]]:
    """Each department's rules (the default where it has none) and its team-leader total,
    by department id in id order: what a proposal covering their debts must pass."""
    names = dict(
        db.session.execute(
            sa.select(ServiceDepartment.id, ServiceDepartment.name).where(
                ServiceDepartment.id.in_(department_ids)
            )
        ).all()
    )
    rows = {
        row.department_id: row
        for row in db.session.scalars(
            sa.select(PlanPolicy).where(PlanPolicy.department_id.in_(department_ids))
        )
    }
    policies = {}
    for department_id in sorted(set(department_ids)):
        values = PolicyValues.of(rows.get(department_id))
        rules = {k: v for k, v in values.as_dict().items() if k != "team_leader_above_pence"}
        name = names.get(department_id, "this service")
        policies[department_id] = (
            plan_policy.PlanPolicy(**rules, department=name),
            values.team_leader_above_pence,
        )
    return policies


def rules_for(department_ids: Sequence[int]) -> list[tuple[plan_policy.PlanPolicy, int]]:
    """department_rules() as plan_policy.evaluate takes them."""
    return list(department_rules(department_ids).values())


def policy_problems(values: PolicyValues) -> dict[str, str]:
    """What is wrong with an edited policy, by field name (empty when it can be saved)."""
    problems = {}
    if values.max_length_months < 1:
        problems["max_length_months"] = "Maximum length must be 1 month or more"
    if values.min_instalment_pence < 1:
        problems["min_instalment_pence"] = "Minimum instalment must be more than £0"
    for name, words in (
        ("max_auto_approve_pence", "Maximum for automatic approval"),
        ("no_broken_plan_within_months", "Months since a broken plan"),
        ("income_expenditure_above_pence", "Income and expenditure threshold"),
        ("team_leader_above_pence", "Team leader threshold"),
    ):
        if getattr(values, name) < 0:
            problems[name] = f"{words} must be 0 or more"
    return problems


@dataclass(frozen=True)
class DepartmentPolicy:
    department_id: int
    department_name: str
    values: PolicyValues
    is_default: bool
    updated_at: datetime | None


def department_policies() -> list[DepartmentPolicy]:
    """Every service department with its plan policy (the default where it has none)."""
    rows = db.session.execute(
        sa.select(ServiceDepartment, PlanPolicy)
        .outerjoin(PlanPolicy, PlanPolicy.department_id == ServiceDepartment.id)
        .order_by(ServiceDepartment.name, ServiceDepartment.id)
    ).all()
    return [
        DepartmentPolicy(
            department.id,
            department.name,
            PolicyValues.of(row),
            row is None,
            row.updated_at if row else None,
        )
        for department, row in rows
    ]


def department_policy(department_id: int) -> DepartmentPolicy:
    """One department's plan policy. Raises NotFound."""
    department = db.session.get(ServiceDepartment, department_id)
    if department is None:
        raise NotFound(f"No service department {department_id}")
    row = db.session.scalar(sa.select(PlanPolicy).where(PlanPolicy.department_id == department_id))
    return DepartmentPolicy(
        department.id, department.name, PolicyValues.of(row), row is None, row and row.updated_at
    )


@use_case
def save_policy(department_id: int, values: PolicyValues, actor: Actor) -> PlanPolicy:
    """An admin sets a department's plan policy (created on first save). It applies to
    plans proposed from now on; plans already decided or waiting keep their outcome."""
    staff = _common.staff(actor)
    if not role_has(staff.role, Permission.MANAGE_PLAN_POLICY):
        raise Forbidden("You cannot change payment plan policy")
    problems = policy_problems(values)
    if problems:
        raise InvalidRequest(next(iter(problems.values())))
    department = db.session.get(ServiceDepartment, department_id)
    if department is None:
        raise NotFound(f"No service department {department_id}")
    row = db.session.scalar(
        sa.select(PlanPolicy).where(PlanPolicy.department_id == department_id).with_for_update()
    )
    before = None if row is None else PolicyValues.of(row).as_dict()
    after = values.as_dict()
    if before == after:
        return row
    if row is None:
        row = PlanPolicy(department_id=department_id)
        db.session.add(row)
    for name, value in after.items():
        setattr(row, name, value)
    row.updated_by_staff_id = staff.id
    db.session.flush()
    record_audit(
        actor, "plan_policy.saved", "plan_policy", department_id, before=before, after=after
    )
    db.session.commit()
    return row

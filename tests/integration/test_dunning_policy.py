"""Each department's recovery ladder: the rules a ladder meets (pure) and saving it
(versioned, audited, refused whole when anything is wrong)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.domain import dunning_policy as rules
from shared.domain.dunning_policy import StageInput
from shared.models import AuditLog, DunningPolicy, DunningStage, RecoveryStage, StaffRole
from shared.services import actors
from shared.services.dunning import policy
from shared.services.errors import NotFound
from shared.services.messages.templates import install_defaults
from tests.factories import make_department, make_staff
from tests.frozen_clock import frozen_clock

pytestmark = frozen_clock

ALL = {("dunning.reminder", c) for c in ("letter", "email", "sms")} | {
    ("dunning.final_demand", "letter"),
    ("dunning.final_demand", "email"),
    ("dunning.pre_action", "letter"),
}


def problems(stages, *, minimum=1000, automatic=True, known=ALL):
    return rules.policy_problems(
        minimum_balance_pence=minimum,
        automatic=automatic,
        stages=stages,
        template_exists=lambda key, channel: (key, channel) in known,
    )


def standard():
    return [
        StageInput(s.stage, s.days_after_due, s.channels, s.template_key)
        for s in rules.DEFAULT_STAGES
    ]


# --- the rules ----------------------------------------------------------------------------------


def test_the_standard_ladder_meets_every_rule():
    assert problems(standard()) == {}


def test_stages_out_of_ladder_order_are_refused():
    found = problems(
        [
            StageInput("final_demand", 28, ("letter",), "dunning.final_demand"),
            StageInput("reminder", 14, ("letter",), "dunning.reminder"),
        ]
    )
    assert "ladder order" in found["stages"]


def test_a_stage_twice_is_refused():
    found = problems(
        [
            StageInput("reminder", 14, ("letter",), "dunning.reminder"),
            StageInput("reminder", 20, ("letter",), "dunning.reminder"),
        ]
    )
    assert found == {"stages": "Reminder is in the ladder twice"}


@pytest.mark.parametrize("later_days", [14, 10])
def test_days_must_climb_with_the_ladder(later_days):
    found = problems(
        [
            StageInput("reminder", 14, ("letter",), "dunning.reminder"),
            StageInput("final_demand", later_days, ("letter",), "dunning.final_demand"),
        ]
    )
    assert found == {
        "final_demand-days": "Final demand must come more days after the due date than "
        "reminder (14 days)"
    }


def test_an_officer_only_stage_between_automatic_ones_does_not_break_the_climb():
    found = problems(
        [
            StageInput("reminder", 14, ("letter",), "dunning.reminder"),
            StageInput("final_demand", None, ("letter",), "dunning.final_demand"),
            StageInput("pre_action", 42, ("letter",), "dunning.pre_action"),
        ]
    )
    assert found == {}


@pytest.mark.parametrize("stage", ["referred_legal", "referred_enforcement"])
def test_legal_and_enforcement_are_never_automatic(stage):
    found = problems([StageInput(stage, 60, (), None)])
    assert set(found) == {f"{stage}-days"}
    assert "officer's decision" in found[f"{stage}-days"]


@pytest.mark.parametrize("days", [-1, 3651])
def test_days_out_of_range_are_refused(days):
    assert set(problems([StageInput("reminder", days, ("letter",), "dunning.reminder")])) == {
        "reminder-days"
    }


def test_a_template_needs_a_channel_and_channels_need_a_template():
    assert set(problems([StageInput("reminder", 14, (), "dunning.reminder")])) == {
        "reminder-channels"
    }
    assert set(problems([StageInput("reminder", 14, ("letter",), None)])) == {"reminder-template"}
    assert problems([StageInput("reminder", 14, (), None)]) == {}


def test_unknown_channels_are_refused():
    found = problems([StageInput("reminder", 14, ("fax",), "dunning.reminder")])
    assert set(found) == {"reminder-channels"}


def test_each_named_channel_needs_an_english_template():
    found = problems([StageInput("final_demand", 28, ("letter", "sms"), "dunning.final_demand")])
    assert found == {
        "final_demand-template": "Template dunning.final_demand has no English text message "
        "version: add it, or untick that channel"
    }


@pytest.mark.parametrize(
    ("minimum", "automatic", "field"),
    [(-1, True, "minimum_balance"), (None, True, "minimum_balance"), (0, None, "automatic")],
)
def test_minimum_and_automatic_must_be_given(minimum, automatic, field):
    assert set(problems(standard(), minimum=minimum, automatic=automatic)) == {field}


def test_an_empty_ladder_is_refused():
    assert set(problems([])) == {"stages"}


# --- the service --------------------------------------------------------------------------------


@pytest.fixture
def admin(db):
    return actors.staff(make_staff(StaffRole.ADMIN).id)


@pytest.fixture
def waste(db):
    return make_department(code="TW", name="Trade waste")


def audit_rows(db, action):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
    ).all()


def test_a_department_without_a_ladder_reads_as_none_yet(db, waste):
    found = policy.policy_for(waste.id)

    assert (found.exists, found.version, found.stages) == (False, 0, ())
    with pytest.raises(NotFound):
        policy.policy_for(waste.id + 1000)


def test_saving_a_new_ladder_creates_it_at_version_1_with_an_audit_row(db, admin, waste):
    install_defaults(admin)  # templates, and the standard ladder for `waste`
    parks = make_department(code="PK", name="Parks")

    saved = policy.save_policy(
        admin,
        parks.id,
        0,
        2500,
        True,
        [
            StageInput("reminder", 10, ("email", "letter"), "dunning.reminder"),
            StageInput("referred_legal", None, (), None),
        ],
    )

    assert (saved.exists, saved.version, saved.minimum_balance_pence, saved.automatic) == (
        True,
        1,
        2500,
        True,
    )
    assert [(s.stage, s.days_after_due, s.channels) for s in saved.stages] == [
        ("reminder", 10, ("email", "letter")),
        ("referred_legal", None, ()),
    ]
    [row] = [
        r for r in audit_rows(db, "dunning_policy.created") if r.after["department_id"] == parks.id
    ]
    assert row.actor_id == admin.id and row.before is None
    assert row.after["stages"][0] == {
        "stage": "reminder",
        "days_after_due": 10,
        "channels": ["email", "letter"],
        "template_key": "dunning.reminder",
    }


def test_changing_a_ladder_bumps_its_version_and_audits_before_and_after(db, admin, waste):
    install_defaults(admin)
    stages = standard()
    stages[0] = StageInput("reminder", 7, ("sms", "letter"), "dunning.reminder")

    saved = policy.save_policy(admin, waste.id, 1, 500, False, stages)

    assert saved.version == 2
    assert saved.stage("reminder").days_after_due == 7
    [row] = audit_rows(db, "dunning_policy.changed")
    assert row.before["stages"][0]["days_after_due"] == 14
    assert row.after["stages"][0]["days_after_due"] == 7
    assert (row.before["minimum_balance_pence"], row.after["minimum_balance_pence"]) == (1000, 500)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DunningStage)) == 5


def test_saving_the_same_ladder_again_changes_nothing(db, admin, waste):
    install_defaults(admin)

    saved = policy.save_policy(admin, waste.id, 1, 1000, False, standard())

    assert saved.version == 1
    assert audit_rows(db, "dunning_policy.changed") == []


def test_a_save_against_an_older_version_is_refused_and_changes_nothing(db, admin, waste):
    install_defaults(admin)
    policy.save_policy(admin, waste.id, 1, 2000, False, standard())

    with pytest.raises(policy.PolicyConflict, match="Someone else changed"):
        policy.save_policy(admin, waste.id, 1, 9000, True, standard())

    found = policy.policy_for(waste.id)
    assert (found.version, found.minimum_balance_pence, found.automatic) == (2, 2000, False)


def test_a_refused_ladder_names_each_field_and_changes_nothing(db, admin, waste):
    install_defaults(admin)
    bad = [
        StageInput("reminder", 30, ("letter",), "dunning.reminder"),
        StageInput("final_demand", 20, ("letter",), "no.such.template"),
        StageInput("referred_legal", 50, (), None),
    ]

    with pytest.raises(policy.PolicyRefused) as refused:
        policy.save_policy(admin, waste.id, 1, 1000, True, bad)

    assert set(refused.value.problems) == {
        "final_demand-days",
        "final_demand-template",
        "referred_legal-days",
    }
    assert policy.policy_for(waste.id).version == 1
    assert audit_rows(db, "dunning_policy.changed") == []


def test_a_welsh_template_alone_does_not_let_a_stage_name_it(db, admin, waste):
    from shared.models import Language, MessageTemplate, TemplateChannel

    db.session.add(
        MessageTemplate(
            key="welsh.only",
            channel=TemplateChannel.LETTER,
            language=Language.WELSH,
            name="Cymraeg",
            subject="Pwnc",
            body="Annwyl {debtor_name}",
        )
    )
    db.session.commit()

    with pytest.raises(policy.PolicyRefused) as refused:
        policy.save_policy(
            admin, waste.id, 0, 1000, False, [StageInput("reminder", 14, ("letter",), "welsh.only")]
        )
    assert set(refused.value.problems) == {"reminder-template"}


def test_install_defaults_gives_every_department_the_standard_ladder_once(db, admin, waste):
    parks = make_department(code="PK", name="Parks")

    first = install_defaults(admin)
    again = install_defaults(admin)

    assert (first.policies_added, again.policies_added) == (2, 0)
    for department in (waste, parks):
        found = policy.policy_for(department.id)
        assert (found.minimum_balance_pence, found.automatic, found.version) == (1000, False, 1)
        assert [(s.stage, s.days_after_due, s.channels, s.template_key) for s in found.stages] == [
            ("reminder", 14, ("letter", "email", "sms"), "dunning.reminder"),
            ("final_demand", 28, ("letter", "email"), "dunning.final_demand"),
            ("pre_action", 42, ("letter",), "dunning.pre_action"),
            ("referred_legal", None, (), None),
            ("referred_enforcement", None, (), None),
        ]
    stored = db.session.scalars(sa.select(DunningStage.stage).order_by(DunningStage.id)).all()
    assert stored[:5] == [
        RecoveryStage.REMINDER,
        RecoveryStage.FINAL_DEMAND,
        RecoveryStage.PRE_ACTION,
        RecoveryStage.REFERRED_LEGAL,
        RecoveryStage.REFERRED_ENFORCEMENT,
    ]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DunningPolicy)) == 2
    assert len(audit_rows(db, "dunning_policy.created")) == 2


def test_install_defaults_leaves_an_edited_ladder_alone(db, admin, waste):
    install_defaults(admin)
    policy.save_policy(
        admin, waste.id, 1, 0, True, [StageInput("reminder", 3, ("letter",), "dunning.reminder")]
    )

    install_defaults(admin)

    found = policy.policy_for(waste.id)
    assert (found.version, len(found.stages), found.automatic) == (2, 1, True)


def test_the_list_shows_every_department_with_or_without_a_ladder(db, admin, waste):
    install_defaults(admin)
    make_department(code="AA", name="Adult social care")

    listed = policy.list_policies()

    assert [(p.department_name, p.exists) for p in listed] == [
        ("Adult social care", False),
        ("Trade waste", True),
    ]

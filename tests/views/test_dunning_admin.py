"""The recovery ladder and message template pages: an administrator edits a department's
ladder and the templates (with a preview), bad input is shown beside its field and
changes nothing, a stale form is refused; officers may look at the ladder but not
change it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, MessageTemplate, StaffRole
from shared.services import ledger
from shared.services.actors import SYSTEM
from shared.services.dunning import policy
from shared.services.messages import templates
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.views.conftest import signed_in_session
from tests.views.pages import csrf_token, error_summary, inline_errors, parse, text, title

pytestmark = frozen_clock

LADDER = "/backoffice/admin/recovery-ladder"
TEMPLATES = "/backoffice/admin/message-templates"


@pytest.fixture
def admin(client, db):
    user = make_staff(StaffRole.ADMIN, full_name="Ada Admin")
    signed_in_session(client, user)
    return user


@pytest.fixture
def waste(db):
    return make_department(code="TW", name="Trade waste")


@pytest.fixture
def installed(db, waste):
    return templates.install_defaults(SYSTEM)


def policy_form(**overrides) -> dict:
    """The standard ladder as the edit page posts it."""
    data = {
        "version": "1",
        "minimum_balance": "10.00",
        "automatic": "no",
        "reminder-included": "yes",
        "reminder-days": "14",
        "reminder-channels": ["letter", "email", "sms"],
        "reminder-template": "dunning.reminder",
        "final_demand-included": "yes",
        "final_demand-days": "28",
        "final_demand-channels": ["letter", "email"],
        "final_demand-template": "dunning.final_demand",
        "pre_action-included": "yes",
        "pre_action-days": "42",
        "pre_action-channels": ["letter"],
        "pre_action-template": "dunning.pre_action",
        "referred_legal-included": "yes",
        "referred_legal-template": "",
        "referred_enforcement-included": "yes",
        "referred_enforcement-template": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, path, data, *, token_from=None):
    token = csrf_token(client, token_from or path)
    return client.post(path, data={"csrf_token": token, **data})


def test_the_ladder_page_lists_each_department_with_its_stages(client, admin, installed, waste):
    make_department(code="PK", name="Parks")  # after the install: no ladder
    page = parse(client.get(LADDER))

    assert title(page).startswith("Recovery ladder")
    waste_row = text(page.select_one(f"#department-{waste.id}"))
    assert (
        "Reminder: 14 days after the due date, sends dunning.reminder by letter, email, text"
        in (waste_row)
    )
    assert "Referred to legal: moved by an officer, sends nothing" in waste_row
    assert "£10.00" in waste_row and "No" in waste_row
    assert "Parks (PK) No ladder" in text(page.select_one("#ladders"))
    assert "Recovery ladder" in text(page.select_one(".govuk-service-navigation"))


def test_an_administrator_changes_a_ladder_and_it_is_audited(client, db, admin, installed, waste):
    response = post(
        client,
        f"{LADDER}/{waste.id}",
        policy_form(
            **{
                "minimum_balance": "25.50",
                "automatic": "yes",
                "reminder-days": "7",
                "reminder-channels": ["sms", "email"],
                "pre_action-included": None,
            }
        ),
    )

    assert response.status_code == 302, inline_errors(parse(response))
    found = policy.policy_for(waste.id)
    assert (found.version, found.minimum_balance_pence, found.automatic) == (2, 2550, True)
    assert [s.stage for s in found.stages] == [
        "reminder",
        "final_demand",
        "referred_legal",
        "referred_enforcement",
    ]
    assert found.stage("reminder").channels == ("email", "sms")  # ladder's channel order
    row = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "dunning_policy.changed")
    ).one()
    assert row.actor_id == admin.id


def test_a_bad_ladder_shows_each_problem_beside_its_field_and_changes_nothing(
    client, admin, installed, waste
):
    response = post(
        client,
        f"{LADDER}/{waste.id}",
        policy_form(
            **{
                "minimum_balance": "ten pounds",
                "final_demand-days": "10",
                "pre_action-days": "soon",
                "reminder-template": "",
            }
        ),
    )

    assert response.status_code == 200
    page = parse(response)
    assert title(page).startswith("Error:")
    errors = inline_errors(page)
    assert errors["minimum_balance"] == "Minimum balance must be a number, like 123.45"
    assert "whole number" in errors["pre_action-days"]
    # The view's own problems come first; the service's rules then on a clean form.
    assert policy.policy_for(waste.id).version == 1

    response = post(
        client,
        f"{LADDER}/{waste.id}",
        policy_form(**{"final_demand-days": "10", "reminder-template": ""}),
    )
    summary = dict(error_summary(parse(response)))
    assert summary == {
        "Choose the template reminder sends, or untick its channels": "#reminder-template",
        "Final demand must come more days after the due date than reminder (14 days)": (
            "#final_demand-days"
        ),
    }
    # What was typed is shown back.
    page = parse(response)
    assert page.select_one("#final_demand-days")["value"] == "10"
    assert policy.policy_for(waste.id).version == 1


def test_a_stale_ladder_form_is_refused_with_a_message_and_changes_nothing(
    client, admin, installed, waste
):
    policy.save_policy(
        SYSTEM, waste.id, 1, 500, False, [policy.StageInput("reminder", 20, (), None)]
    )

    response = post(client, f"{LADDER}/{waste.id}", policy_form(version="1"))

    assert response.status_code == 200
    assert "Someone else changed the recovery ladder for Trade waste" in text(
        parse(response).select_one(".govuk-error-summary")
    )
    found = policy.policy_for(waste.id)
    assert (found.version, found.minimum_balance_pence) == (2, 500)


def test_a_department_without_a_ladder_is_offered_the_standard_one(client, admin, waste):
    page = parse(client.get(f"{LADDER}/{waste.id}"))

    assert "has no ladder yet" in text(page)
    assert page.select_one("#reminder-days")["value"] == "14"
    assert page.select_one("input[name=version]")["value"] == "0"


def test_an_officer_sees_the_ladder_but_cannot_change_it(client, db, installed, waste):
    signed_in_session(client, make_staff(StaffRole.OFFICER))

    page = parse(client.get(LADDER))
    assert "dunning.reminder" in text(page.select_one("#ladders"))
    assert page.select_one(f"a[href='{LADDER}/{waste.id}']") is None
    assert client.get(f"{LADDER}/{waste.id}").status_code == 403
    token = csrf_token(client, LADDER)
    response = client.post(f"{LADDER}/{waste.id}", data={"csrf_token": token, **policy_form()})
    assert response.status_code == 403
    assert client.get(TEMPLATES).status_code == 403


# --- templates ----------------------------------------------------------------------------------


def template_id(db, key, channel, language="en") -> int:
    return db.session.scalar(
        sa.select(MessageTemplate.id).where(
            MessageTemplate.key == key,
            MessageTemplate.channel == channel,
            MessageTemplate.language == language,
        )
    )


def test_the_template_list_offers_welsh_versions_only_where_there_is_none(
    client, db, admin, installed
):
    db.session.delete(
        db.session.get(MessageTemplate, template_id(db, "dunning.reminder", "sms", "cy"))
    )
    db.session.commit()

    page = parse(client.get(TEMPLATES))

    rows = [text(r) for r in page.select("#templates tbody tr")]
    assert any(r.startswith("dunning.reminder Text message English Reminder") for r in rows)
    english_sms = template_id(db, "dunning.reminder", "sms")
    english_letter = template_id(db, "dunning.reminder", "letter")
    assert page.select_one(f"a[href='{TEMPLATES}/new?welsh_of={english_sms}']") is not None
    assert page.select_one(f"a[href='{TEMPLATES}/new?welsh_of={english_letter}']") is None


def test_add_welsh_version_starts_from_the_english_and_saves_it_as_welsh(
    client, db, admin, installed
):
    db.session.delete(
        db.session.get(MessageTemplate, template_id(db, "dunning.reminder", "sms", "cy"))
    )
    db.session.commit()
    english = template_id(db, "dunning.reminder", "sms")

    page = parse(client.get(f"{TEMPLATES}/new?welsh_of={english}"))
    assert page.select_one("#key")["value"] == "dunning.reminder"
    assert page.select_one("input[name=language][value=cy]").has_attr("checked")

    response = post(
        client,
        f"{TEMPLATES}/new",
        {
            "key": "dunning.reminder",
            "channel": "sms",
            "language": "cy",
            "name": "Nodyn atgoffa",
            "subject": "",
            "body": "{council_name}: talwch yn {portal_url}",
            "save": "Save template",
        },
    )

    assert response.status_code == 302
    assert templates.find_template("dunning.reminder", "sms", "cy").name == "Nodyn atgoffa"


def test_an_administrator_edits_a_template_and_the_version_goes_up(client, db, admin, installed):
    tid = template_id(db, "dunning.reminder", "letter")
    path = f"{TEMPLATES}/{tid}"
    page = parse(client.get(path))
    assert "{debtor_name}" in text(page.select_one("#placeholders"))

    response = post(
        client,
        path,
        {
            "version": "1",
            "name": "Reminder",
            "subject": "Reminder {account_reference}",
            "body": "Dear {debtor_name},\n\nPlease pay {amount_due}.",
            "save": "Save template",
        },
    )

    assert response.status_code == 302
    assert templates.get(tid).version == 2
    listing = text(parse(client.get(TEMPLATES)).select_one("#templates"))
    assert "by Ada Admin (version 2)" in listing


def test_an_unknown_placeholder_is_a_field_error_and_nothing_is_saved(client, db, admin, installed):
    tid = template_id(db, "dunning.reminder", "letter")

    response = post(
        client,
        f"{TEMPLATES}/{tid}",
        {
            "version": "1",
            "name": "Reminder",
            "subject": "Reminder",
            "body": "Pay {amount_owed}",
            "save": "Save template",
        },
    )

    assert response.status_code == 200
    assert error_summary(parse(response)) == [
        ("The message uses {amount_owed}, which is not a placeholder we can fill", "#body")
    ]
    assert templates.get(tid).version == 1


def test_a_stale_template_form_is_refused_with_a_message(client, db, admin, installed):
    tid = template_id(db, "dunning.reminder", "letter")
    row = templates.get(tid)
    templates.save_template(
        SYSTEM,
        tid,
        row.key,
        row.channel,
        row.language,
        "Changed meanwhile",
        row.subject,
        row.body,
        1,
    )

    response = post(
        client,
        f"{TEMPLATES}/{tid}",
        {"version": "1", "name": "Mine", "subject": "S", "body": "B", "save": "Save template"},
    )

    assert response.status_code == 200
    assert "Someone else changed this template" in text(
        parse(response).select_one(".govuk-error-summary")
    )
    assert templates.get(tid).name == "Changed meanwhile"


def test_previewing_a_text_shows_its_segments_and_cost_and_saves_nothing(
    client, db, app, admin, installed
):
    app.config["SMS_COST_PENCE_PER_SEGMENT"] = 4
    tid = template_id(db, "dunning.reminder", "sms")

    response = post(
        client,
        f"{TEMPLATES}/{tid}",
        {
            "version": "1",
            "name": "Reminder",
            "body": "{council_name}: " + "x" * 150,
            "preview": "Preview",
        },
    )

    assert response.status_code == 200
    page = parse(response)
    assert text(page.select_one("#sms-cost")) == "2 text messages, 8p"
    assert text(page.select_one("#preview-text")).startswith("Borsetshire County Council: xxx")
    assert templates.get(tid).version == 1


def test_previewing_with_a_real_account_fills_in_its_details(client, db, admin, installed):
    account = make_account(surname="Jones", forename="Megan", title="Mrs")
    ledger.raise_invoice(
        account_id=account.id,
        department_id=make_department(name="Parks").id,
        number="INV777",
        issue_date=TODAY - timedelta(days=60),
        due_date=TODAY - timedelta(days=30),
        description="Hire",
        lines=[ledger.LineInput("Hire", 1, 4_210)],
        actor=SYSTEM,
    )
    tid = template_id(db, "dunning.reminder", "letter")
    row = templates.get(tid)

    response = post(
        client,
        f"{TEMPLATES}/{tid}",
        {
            "version": "1",
            "name": row.name,
            "subject": row.subject,
            "body": row.body,
            "account_reference": account.reference.lower(),
            "preview": "Preview",
        },
    )

    page = parse(response)
    shown = text(page.select_one("#preview-html"))
    assert "Dear Mrs Megan Jones," in shown
    assert "We have not yet received payment of £42.10 for Parks" in shown
    assert "INV777" in shown
    assert text(page.select_one("#preview-subject")) == (
        f"Payment reminder for account {account.reference}"
    )
    assert "&lt;p&gt;" in str(page.select_one("#preview-html-source"))


def test_previewing_with_an_unknown_account_says_so(client, db, admin, installed):
    tid = template_id(db, "dunning.reminder", "letter")

    response = post(
        client,
        f"{TEMPLATES}/{tid}",
        {
            "version": "1",
            "name": "R",
            "subject": "S",
            "body": "B",
            "account_reference": "NOPE123",
            "preview": "Preview",
        },
    )

    assert inline_errors(parse(response))["account_reference"] == (
        "There is no account with reference NOPE123"
    )


def test_installing_the_standard_templates_from_the_page(client, db, admin, waste):
    response = post(client, f"{TEMPLATES}/install-defaults", {}, token_from=TEMPLATES)

    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MessageTemplate)) == 30
    assert policy.policy_for(waste.id).exists

"""The message templates the ladder's stages name: saving (checked, versioned, audited),
Welsh versions and the English fallback, installing the defaults, and the preview
filled in for a real account."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from shared.domain.default_templates import DEFAULT_TEMPLATES
from shared.domain.sms import sms_segments
from shared.domain.template_checks import TemplateFields
from shared.models import AuditLog, MessageTemplate, StaffRole
from shared.services import actors, ledger
from shared.services.actors import SYSTEM
from shared.services.messages import templates
from tests.factories import make_account, make_department, make_staff
from tests.frozen_clock import TODAY, frozen_clock

pytestmark = frozen_clock


@pytest.fixture
def admin(db):
    return actors.staff(make_staff(StaffRole.ADMIN, full_name="Ada Admin").id)


def save(admin, template_id=None, *, version=None, **overrides):
    values = {
        "key": "test.notice",
        "channel": "letter",
        "language": "en",
        "name": "Notice",
        "subject": "About {account_reference}",
        "body": "Dear {debtor_name},\n\nPlease pay {amount_due}.",
    }
    values.update(overrides)
    return templates.save_template(
        admin,
        template_id,
        values["key"],
        values["channel"],
        values["language"],
        values["name"],
        values["subject"],
        values["body"],
        version,
    )


def audit_rows(db, action):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)
    ).all()


def count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(MessageTemplate))


def test_a_new_template_is_saved_at_version_1_with_an_audit_row(db, admin):
    saved = save(admin)

    assert (saved.key, saved.channel, saved.language, saved.version) == (
        "test.notice",
        "letter",
        "en",
        1,
    )
    assert saved.updated_by == "Ada Admin"
    [row] = audit_rows(db, "message_template.created")
    assert row.before is None and row.account_id is None
    assert row.after["body"] == "Dear {debtor_name},\n\nPlease pay {amount_due}."


def test_an_edit_bumps_the_version_and_audits_the_text_before_and_after(db, admin):
    first = save(admin)

    edited = save(admin, first.id, version=1, body="Dear {debtor_name},\n\nPay {amount_due} now.")

    assert edited.version == 2
    [row] = audit_rows(db, "message_template.changed")
    assert row.before["body"].endswith("Please pay {amount_due}.")
    assert row.after["body"].endswith("Pay {amount_due} now.")
    assert (row.before["version"], row.after["version"]) == (1, 2)


def test_saving_the_same_words_again_is_not_a_new_version(db, admin):
    first = save(admin)

    again = save(admin, first.id, version=1)

    assert again.version == 1
    assert audit_rows(db, "message_template.changed") == []


def test_an_edit_against_an_older_version_is_refused_and_changes_nothing(db, admin):
    first = save(admin)
    save(admin, first.id, version=1, name="Notice, edited")

    with pytest.raises(templates.TemplateConflict, match="now version 2"):
        save(admin, first.id, version=1, name="Lost update")

    assert templates.get(first.id).name == "Notice, edited"


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"body": "Pay {amount_owed}"}, "body", "{amount_owed}, which is not a placeholder"),
        ({"subject": "Hi {name"}, "subject", "on its own"),
        ({"subject": ""}, "subject", "Enter the letter's heading"),
        ({"channel": "email", "subject": None}, "subject", "Enter the subject"),
        ({"channel": "sms", "subject": "Hi"}, "subject", "A text message has no subject"),
        (
            {"channel": "sms", "subject": None, "body": "{council_name} " * 20},
            "body",
            "text messages once filled in",
        ),
        ({"name": ""}, "name", "Enter a name"),
        ({"key": "Bad Key"}, "key", "lower-case letters"),
        ({"language": "fr"}, "language", "English or Welsh"),
    ],
)
def test_each_refusal_names_its_field_and_saves_nothing(db, admin, overrides, field, words):
    with pytest.raises(templates.TemplateRefused) as refused:
        save(admin, **overrides)

    assert refused.value.field == field
    assert words in refused.value.problems[field]
    assert count(db) == 0
    assert audit_rows(db, "message_template.created") == []


def test_a_second_template_with_the_same_key_channel_and_language_is_refused(db, admin):
    save(admin)

    with pytest.raises(templates.TemplateRefused) as refused:
        save(admin, name="Again")

    assert refused.value.problems == {
        "key": "There is already an English letter template test.notice"
    }
    assert count(db) == 1


def test_the_key_of_a_saved_template_cannot_be_changed(db, admin):
    first = save(admin)

    with pytest.raises(templates.TemplateRefused) as refused:
        save(admin, first.id, version=1, key="test.other")

    assert refused.value.field == "key"


def test_a_welsh_version_needs_the_english_one_first(db, admin):
    with pytest.raises(templates.TemplateRefused) as refused:
        save(admin, language="cy", body="Annwyl {debtor_name}")
    assert refused.value.field == "language"
    assert "English letter template test.notice first" in refused.value.problems["language"]

    save(admin)
    welsh = save(admin, language="cy", name="Hysbysiad", body="Annwyl {debtor_name}")

    assert welsh.language == "cy"


def test_a_welsh_debtor_gets_the_welsh_version_else_the_english(db, admin):
    save(admin)
    save(admin, channel="sms", subject=None, body="{council_name}: please call us")
    save(admin, language="cy", name="Hysbysiad", body="Annwyl {debtor_name}")

    assert templates.find_template("test.notice", "letter", "cy").body == "Annwyl {debtor_name}"
    assert templates.find_template("test.notice", "sms", "cy").language == "en"
    assert templates.find_template("test.notice", "letter", "en").language == "en"
    assert templates.find_template("test.notice", "email", "cy") is None


# --- defaults -----------------------------------------------------------------------------------


def test_install_defaults_stores_every_default_once(db, admin):
    first = templates.install_defaults(admin)
    again = templates.install_defaults(SYSTEM)

    assert (first.templates_added, first.templates_kept) == (len(DEFAULT_TEMPLATES), 0)
    assert (again.templates_added, again.templates_kept) == (0, len(DEFAULT_TEMPLATES))
    assert count(db) == len(DEFAULT_TEMPLATES)
    [row] = audit_rows(db, "message_template.defaults_installed")
    assert len(row.after["added"]) == len(DEFAULT_TEMPLATES)


def test_install_defaults_never_overwrites_an_edited_template(db, admin):
    templates.install_defaults(admin)
    reminder = templates.find_template("dunning.reminder", "sms", "en")
    save(
        admin,
        reminder.id,
        version=1,
        key="dunning.reminder",
        channel="sms",
        subject=None,
        name="Reminder",
        body="{council_name}: our own words",
    )
    db.session.delete(templates.find_template("dunning.final_demand", "sms", "cy"))
    db.session.commit()

    counts = templates.install_defaults(admin)

    assert counts.templates_added == 1  # only the one that was missing
    assert templates.find_template("dunning.reminder", "sms", "en").body == (
        "{council_name}: our own words"
    )
    assert templates.find_template("dunning.reminder", "sms", "en").version == 2


def test_the_cli_installs_the_defaults_and_says_what_it_did(app, db):
    make_department(code="TW", name="Trade waste")
    runner = app.test_cli_runner()

    first = runner.invoke(args=["dunning", "install-defaults"])
    again = runner.invoke(args=["dunning", "install-defaults"])

    assert first.exit_code == 0, first.output
    assert f"Templates: {len(DEFAULT_TEMPLATES)} added, 0 already there" in first.output
    assert "Recovery ladders: 1 added" in first.output
    assert f"0 added, {len(DEFAULT_TEMPLATES)} already there" in again.output
    assert "Recovery ladders: 0 added" in again.output


# --- preview ------------------------------------------------------------------------------------


def test_a_preview_with_no_account_fills_in_the_samples(db, app):
    shown = templates.preview(
        TemplateFields("x.y", "letter", "en", "X", "For {account_reference}", "Owed: {amount_due}")
    )

    assert shown.subject == "For AC0001234"
    assert shown.text == "Owed: £245.60"
    assert shown.html == "<p>Owed: £245.60</p>"
    assert (shown.segments, shown.cost_pence, shown.unknown_placeholders) == (None, None, [])


def test_a_preview_with_a_real_account_uses_its_overdue_invoices(db, app):
    account = make_account(surname="Jones", forename="Megan", title="Mrs")
    waste = make_department(code="TW", name="Trade waste")
    for number, due, pence in (
        ("INV001", TODAY - timedelta(days=40), 12_000),
        ("INV002", TODAY - timedelta(days=10), 3_050),
        ("INV003", TODAY + timedelta(days=10), 9_999),  # not yet due
    ):
        ledger.raise_invoice(
            account_id=account.id,
            department_id=waste.id,
            number=number,
            issue_date=due - timedelta(days=30),
            due_date=due,
            description="Collections",
            lines=[ledger.LineInput("Collections", 1, pence)],
            actor=SYSTEM,
        )

    shown = templates.preview(
        TemplateFields(
            "x.y",
            "email",
            "en",
            "X",
            "Account {account_reference}",
            "Dear {debtor_name},\n\n{amount_due} for {department_name}: {invoice_numbers}, "
            "first due {oldest_due_date}. Balance {account_balance}. <b>{nonsense}</b>",
        ),
        account,
    )

    assert shown.subject == f"Account {account.reference}"
    assert "Dear Mrs Megan Jones," in shown.text
    oldest = TODAY - timedelta(days=40)
    assert (
        f"£150.50 for Trade waste: INV001, INV002, first due {oldest.day} {oldest:%B %Y}. "
        "Balance £250.49." in shown.text
    )
    assert shown.unknown_placeholders == ["nonsense"]
    assert "&lt;b&gt;" in shown.html and "<b>" not in shown.html


def test_an_sms_preview_counts_segments_and_their_cost(db, app):
    app.config["SMS_COST_PENCE_PER_SEGMENT"] = 4
    body = "{council_name}: " + "x" * 150  # 26 + 2 + 150 = 178 GSM characters: 2 segments

    shown = templates.preview(TemplateFields("x.y", "sms", "en", "X", None, body))

    assert sms_segments(shown.text) == 2
    assert (shown.segments, shown.cost_pence, shown.html, shown.subject) == (2, 8, None, None)


def test_a_welsh_sms_with_a_circumflex_is_counted_as_ucs2(db, app):
    app.config["SMS_COST_PENCE_PER_SEGMENT"] = 5
    body = "Ffoniwch â ni " + "a" * 60  # 74 characters, one non-GSM: 2 UCS-2 segments

    shown = templates.preview(TemplateFields("x.y", "sms", "cy", "X", None, body))

    assert (shown.segments, shown.cost_pence) == (2, 10)

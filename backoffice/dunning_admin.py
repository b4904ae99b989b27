"""Administrators edit each department's recovery ladder (stages, days, channels,
templates, minimum balance, automatic runs) and the message templates (with Welsh
versions, a preview with a real account and the SMS segment count).

The journey promises: the ladder page shows every department's stages to anyone who
works cases (read only) and to administrators with a link to change them; a change
is checked as a whole and every problem is shown beside its field, changing nothing;
a template's Preview fills it in (with a real account if a reference is given) and
counts a text's segments and cost, without saving; a form saved over someone else's
newer save is refused with a message, changing nothing. No JavaScript is needed.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

from backoffice import bp
from backoffice.auth import current_staff, requires
from backoffice.casework import staff_actor
from backoffice.forms import strip_whitespace
from shared.domain import dunning_policy as ladder
from shared.domain.message_templates import PLACEHOLDERS
from shared.domain.numbers import parse_whole_number
from shared.domain.permissions import Permission
from shared.domain.template_checks import (
    CHANNEL_WORDS,
    LANGUAGE_WORDS,
    TemplateFields,
    template_problems,
)
from shared.money import MoneyFormatError, format_gbp, parse_gbp
from shared.services.dunning import policy as policies
from shared.services.errors import NotFound
from shared.services.messages import templates
from shared.widgets import GovRadioInput

LADDER_PAGE = "backoffice.dunning_ladder"
TEMPLATES_PAGE = "backoffice.message_templates"


# --- the recovery ladder ------------------------------------------------------------------------


@bp.get("/admin/recovery-ladder")
@requires(Permission.VIEW_CASES)
def dunning_ladder():
    return render_template(
        "backoffice/dunning_admin/ladder.html",
        policies=policies.list_policies(),
        stage_words=ladder.STAGE_WORDS,
        channel_words=ladder.CHANNEL_WORDS,
    )


def _policy_or_404(department_id: int) -> policies.PolicyView:
    try:
        return policies.policy_for(department_id)
    except NotFound:
        abort(404)


def _form_values(current: policies.PolicyView) -> dict[str, object]:
    """The edit form's values: the ladder as stored (or the standard one, if none)."""
    stages = current.stages if current.exists else ladder.DEFAULT_STAGES
    by_stage = {s.stage: s for s in stages}
    values: dict[str, object] = {
        "minimum_balance": format_gbp(current.minimum_balance_pence, symbol=False),
        "automatic": "yes" if current.automatic else "no",
    }
    for name in ladder.LADDER:
        stage = by_stage.get(name)
        values[f"{name}-included"] = stage is not None
        days = stage.days_after_due if stage else None
        values[f"{name}-days"] = "" if days is None else str(days)
        values[f"{name}-channels"] = list(stage.channels) if stage else []
        values[f"{name}-template"] = (stage.template_key if stage else None) or ""
    return values


def _posted_values() -> dict[str, object]:
    form = request.form
    values: dict[str, object] = {
        "minimum_balance": form.get("minimum_balance", "").strip(),
        "automatic": form.get("automatic", ""),
    }
    for name in ladder.LADDER:
        values[f"{name}-included"] = form.get(f"{name}-included") == "yes"
        values[f"{name}-days"] = form.get(f"{name}-days", "").strip()
        # Ticked boxes come in the page's order; anything else is kept for the service
        # to refuse by name.
        ticked = form.getlist(f"{name}-channels")
        values[f"{name}-channels"] = [c for c in ladder.CHANNELS if c in ticked] + [
            c for c in ticked if c not in ladder.CHANNELS
        ]
        values[f"{name}-template"] = form.get(f"{name}-template", "").strip()
    return values


def _read_policy(values: dict[str, object]):
    """(minimum pence, automatic, stages, problems) from the posted values."""
    problems: dict[str, str] = {}
    minimum = None
    typed = str(values["minimum_balance"])
    if not typed:
        problems["minimum_balance"] = "Enter the minimum balance in pounds, like 10.00"
    else:
        try:
            minimum = parse_gbp(typed)
        except MoneyFormatError as exc:
            problems["minimum_balance"] = str(exc).replace("Amount", "Minimum balance", 1)
    automatic = {"yes": True, "no": False}.get(str(values["automatic"]))
    stages = []
    for name in ladder.LADDER:
        if not values[f"{name}-included"]:
            continue
        days_typed = str(values[f"{name}-days"])
        days = None
        if days_typed and name not in ladder.OFFICER_ONLY:
            days = parse_whole_number(days_typed, max_digits=4)
            if days is None:
                problems[f"{name}-days"] = (
                    f"Enter the days after the due date for "
                    f"{ladder.STAGE_WORDS[name].lower()} as a whole number, like 14"
                )
        stages.append(
            ladder.StageInput(
                stage=name,
                days_after_due=days,
                channels=tuple(values[f"{name}-channels"]),
                template_key=str(values[f"{name}-template"]) or None,
            )
        )
    return minimum, automatic, stages, problems


class CsrfForm(FlaskForm):
    pass


@bp.route("/admin/recovery-ladder/<int:department_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_DUNNING)
def edit_dunning_policy(department_id: int):
    current = _policy_or_404(department_id)
    values, problems, conflict = _form_values(current), {}, None
    version = current.version
    if request.method == "POST":
        values = _posted_values()
        version = parse_whole_number(request.form.get("version", "")) or 0
        if not CsrfForm().validate_on_submit():
            conflict = "Your form had expired. Check the ladder and save it again"
        else:
            minimum, automatic, stages, problems = _read_policy(values)
            if not problems:
                try:
                    policies.save_policy(
                        staff_actor(), department_id, version, minimum, automatic, stages
                    )
                except policies.PolicyRefused as exc:
                    problems = exc.problems
                except policies.PolicyConflict as exc:
                    conflict, current = str(exc), _policy_or_404(department_id)
                    values, version = _form_values(current), current.version
                else:
                    flash(f"Recovery ladder for {current.department_name} saved", "success")
                    return redirect(url_for(LADDER_PAGE))
    english = policies.english_templates()
    keys = sorted({key for key, _ in english})
    return render_template(
        "backoffice/dunning_admin/policy.html",
        policy=current,
        values=values,
        version=version,
        problems=problems,
        conflict=conflict,
        template_keys=keys,
        english=english,
        ladder=ladder,
    )


# --- message templates --------------------------------------------------------------------------


@bp.get("/admin/message-templates")
@requires(Permission.MANAGE_DUNNING)
def message_templates():
    rows = templates.list_templates()
    welsh = {(r.key, r.channel) for r in rows if r.language == "cy"}
    return render_template(
        "backoffice/dunning_admin/templates.html",
        rows=rows,
        welsh=welsh,
        channel_words=CHANNEL_WORDS,
        language_words=LANGUAGE_WORDS,
        form=CsrfForm(),
    )


@bp.post("/admin/message-templates/install-defaults")
@requires(Permission.MANAGE_DUNNING)
def install_message_template_defaults():
    if not CsrfForm().validate_on_submit():
        flash("Your form had expired. Try again")
        return redirect(url_for(TEMPLATES_PAGE))
    counts = templates.install_defaults(staff_actor())
    flash(
        f"{counts.templates_added} default template{'' if counts.templates_added == 1 else 's'} "
        f"added ({counts.templates_kept} already there, left as they are); "
        f"{counts.policies_added} department{'' if counts.policies_added == 1 else 's'} given "
        "the standard recovery ladder",
        "success",
    )
    return redirect(url_for(TEMPLATES_PAGE))


class TemplateForm(FlaskForm):
    key = StringField(
        "Key",
        description="What the template is for, as ladders name it: like dunning.reminder",
        filters=[strip_whitespace],
        widget=GovTextInput(),
    )
    channel = RadioField(
        "Channel",
        choices=[SelectChoice(c, w) for c, w in CHANNEL_WORDS.items()],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    language = RadioField(
        "Language",
        choices=[SelectChoice(c, w) for c, w in LANGUAGE_WORDS.items()],
        validate_choice=False,
        widget=GovRadioInput(),
    )
    name = StringField(
        "Name",
        description="How officers see it in lists",
        filters=[strip_whitespace],
        widget=GovTextInput(),
    )
    subject = StringField(
        "Subject",
        description="The email's subject or the letter's heading. Texts have none",
        filters=[strip_whitespace],
        widget=GovTextInput(),
    )
    body = TextAreaField(
        "Message",
        description=(
            "Plain text. Leave a blank line between paragraphs. Put placeholders in braces, "
            "like {amount_due}; write {{ or }} for a brace"
        ),
        widget=GovTextArea(),
    )
    account_reference = StringField(
        "Preview with an account (optional)",
        description="An account reference, like T00000001. Empty: sample values",
        filters=[strip_whitespace],
        widget=GovTextInput(),
    )
    version = HiddenField()
    preview = SubmitField("Preview", widget=GovSubmitInput())
    save = SubmitField("Save template", widget=GovSubmitInput())

    def fields(self) -> TemplateFields:
        return TemplateFields(
            key=self.key.data or "",
            channel=self.channel.data or "",
            language=self.language.data or "",
            name=self.name.data or "",
            subject=self.subject.data or None,
            body=self.body.data or "",
        )

    def show(self, problems: dict[str, str]) -> None:
        for name, message in problems.items():
            if message not in self[name].errors:
                self[name].errors = [*self[name].errors, message]


def _cost_words(segments: int, pence: int) -> str:
    cost = f"{pence}p" if pence < 100 else format_gbp(pence)
    return f"{segments} text message{'' if segments == 1 else 's'}, {cost}"


def _template_page(form: TemplateForm, row: templates.TemplateRow | None, conflict=None):
    shown = None
    if form.is_submitted() and form.preview.data and not form.errors.get("csrf_token"):
        fields = form.fields()
        account = None
        reference = form.account_reference.data or ""
        if reference:
            account = templates.account_for_preview(reference)
            if account is None:
                form.account_reference.errors = [f"There is no account with reference {reference}"]
        form.show(template_problems(fields))
        if fields.channel in CHANNEL_WORDS:
            me = current_staff()
            shown = templates.preview(
                fields, account, extra={"officer_name": me.full_name} if me else None
            )
    return render_template(
        "backoffice/dunning_admin/template.html",
        form=form,
        row=row,
        shown=shown,
        conflict=conflict,
        cost_words=_cost_words(shown.segments, shown.cost_pence)
        if shown and shown.segments is not None
        else None,
        placeholders=PLACEHOLDERS,
        channel_words=CHANNEL_WORDS,
        language_words=LANGUAGE_WORDS,
    )


def _save(form: TemplateForm, template_id: int | None):
    """Save the posted template; a redirect, or None with the problems on the form."""
    fields = form.fields()
    version = parse_whole_number(form.version.data or "")
    try:
        saved = templates.save_template(
            staff_actor(),
            template_id,
            fields.key,
            fields.channel,
            fields.language,
            fields.name,
            fields.subject,
            fields.body,
            version,
        )
    except templates.TemplateRefused as exc:
        form.show(exc.problems)
        return None
    flash(
        f"{LANGUAGE_WORDS[saved.language]} {CHANNEL_WORDS[saved.channel].lower()} template "
        f"{saved.key} saved (version {saved.version})",
        "success",
    )
    return redirect(url_for(TEMPLATES_PAGE))


@bp.route("/admin/message-templates/new", methods=["GET", "POST"])
@requires(Permission.MANAGE_DUNNING)
def new_message_template():
    form = TemplateForm()
    if request.method == "GET":
        # "Add Welsh version": the English text to translate, with its key and channel.
        source = request.args.get("welsh_of", "")
        english = None
        if source.isascii() and source.isdigit() and len(source) < 10:
            try:
                english = templates.get(int(source))
            except NotFound:
                english = None
        if english is not None and english.language == "en":
            form.key.data, form.channel.data, form.language.data = (
                english.key,
                english.channel,
                "cy",
            )
            form.name.data, form.subject.data, form.body.data = (
                english.name,
                english.subject,
                english.body,
            )
        else:
            form.language.data = "en"
    elif form.validate_on_submit() and form.save.data:
        done = _save(form, None)
        if done is not None:
            return done
    return _template_page(form, None)


@bp.route("/admin/message-templates/<int:template_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_DUNNING)
def edit_message_template(template_id: int):
    try:
        row = templates.get(template_id)
    except NotFound:
        abort(404)
    form = TemplateForm()
    # What a saved template is stays as it is: only its words change here.
    form.key.data, form.channel.data, form.language.data = row.key, row.channel, row.language
    if request.method == "GET":
        form.name.data, form.subject.data, form.body.data = row.name, row.subject, row.body
        form.version.data = str(row.version)
    elif form.validate_on_submit() and form.save.data:
        try:
            done = _save(form, template_id)
        except templates.TemplateConflict as exc:
            return _template_page(form, templates.get(template_id), conflict=str(exc))
        if done is not None:
            return done
    return _template_page(form, row)

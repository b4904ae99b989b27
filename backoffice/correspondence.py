"""Messages from the case: an officer sends a letter, email or text from a template
with a preview; the message log per account and overall, with a retry on permanent
failures.

The journey promises: the officer sees only templates and channels this debtor can
be reached by, and why the others cannot (no mobile number, has not agreed to
texts, Breathing Space, died); the preview is exactly what is sent (their note is
its last paragraph), with a text's segments and cost and when quiet hours hold it;
pressing Send twice sends once; a refusal by the contact rules names the rule and
writes nothing. Sending and retrying need SEND_CORRESPONDENCE; anyone who can see
cases can read the logs (the overall one masks addresses and numbers).
"""

from __future__ import annotations

import secrets

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from backoffice import bp
from backoffice.auth import requires
from backoffice.casework import a_date, case_or_404, staff_actor
from backoffice.forms import strip_whitespace
from shared import clock
from shared.domain.permissions import Permission
from shared.domain.search_query import normalise_reference
from shared.extensions import db
from shared.models import DebtorAccount, OutboxMessage
from shared.services import case_view
from shared.services.errors import InvalidRequest, NotFound
from shared.services.messages import message_log, officer_sent
from shared.widgets import GovRadioInput

CHANNEL_CHOICES = [
    SelectChoice("letter", "Letter (joins the next print batch)"),
    SelectChoice("email", "Email"),
    SelectChoice("sms", "Text message"),
]
CHANNEL_NAMES = {"letter": "letter", "email": "email", "sms": "text"}


def _known(message: str):
    def check(form, field):
        if (field.data or "") not in {c.value for c in field.choices}:
            raise ValidationError(message)

    return check


class ChooseForm(FlaskForm):
    template = RadioField(
        "What do you want to send?",
        choices=[],
        validate_choice=False,
        validators=[DataRequired("Select what to send"), _known("Select what to send")],
        widget=GovRadioInput(),
    )
    channel = RadioField(
        "How should it go?",
        choices=CHANNEL_CHOICES,
        validate_choice=False,
        validators=[
            DataRequired("Select how to send it"),
            _known("Select how to send it"),
        ],
        widget=GovRadioInput(),
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


class NoteForm(FlaskForm):
    template = HiddenField()
    channel = HiddenField()
    note = TextAreaField(
        "Add a note (optional)",
        description=(
            "Your own words, added as the last paragraph. Write plainly: no placeholders, "
            "and nothing about other people or other debts."
        ),
        validators=[
            Optional(),
            Length(
                max=officer_sent.MAX_NOTE,
                message=f"Your note must be {officer_sent.MAX_NOTE:,} characters or fewer",
            ),
        ],
        widget=GovTextArea(),
    )
    submit = SubmitField("Preview", widget=GovSubmitInput())


class SendForm(FlaskForm):
    template = HiddenField()
    channel = HiddenField()
    note = HiddenField()
    submission_key = HiddenField()
    submit = SubmitField("Send", widget=GovSubmitInput())


class RetryForm(FlaskForm):
    return_to = HiddenField()


@bp.app_context_processor
def _message_words() -> dict[str, object]:
    # For the case page's latest messages: a template's name, not its key (no query).
    return {"message_template_name": message_log.known_name}


def _case_url(reference: str) -> str:
    return url_for("backoffice.case_view", reference=reference)


def _account(case) -> DebtorAccount:
    account = db.session.get(DebtorAccount, case.id)
    if account is None:
        abort(404)
    return account


def _choose_url(reference: str) -> str:
    return url_for("backoffice.choose_correspondence", reference=reference)


@bp.route("/accounts/<reference>/correspondence/new", methods=["GET", "POST"])
@requires(Permission.SEND_CORRESPONDENCE)
def choose_correspondence(reference: str):
    case = case_or_404(reference)
    account = _account(case)
    templates = officer_sent.choices(account)
    form = ChooseForm()
    form.template.choices = [SelectChoice(t.key, t.name) for t in templates]
    by_key = {t.key: t for t in templates}
    if form.validate_on_submit():
        chosen = by_key[form.template.data]
        option = next((o for o in chosen.channels if o.channel == form.channel.data), None)
        refusal = officer_sent.account_refusal(account, chosen.purpose)
        if refusal:
            form.template.errors.append(refusal)
        elif option is None:
            form.channel.errors.append(
                f"There is no {CHANNEL_NAMES[form.channel.data]} version of this template: "
                "choose another way to send it"
            )
        elif not option.available:
            form.channel.errors.append(
                f"You cannot send it by {CHANNEL_NAMES[option.channel]}: "
                + officer_sent.as_clause(option.why_not or "")
            )
        else:
            return redirect(
                url_for(
                    "backoffice.write_correspondence",
                    reference=case.reference,
                    template=chosen.key,
                    channel=option.channel,
                )
            )
    return render_template(
        "backoffice/correspondence/choose.html",
        form=form,
        case=case,
        templates=templates,
        template_hints=[_template_hint(account, t) for t in templates],
        channel_hints=_channel_hints(templates),
        general_refusal=officer_sent.account_refusal(account, officer_sent.MessagePurpose.SERVICE),
        collection_refusal=officer_sent.account_refusal(
            account, officer_sent.MessagePurpose.COLLECTION
        ),
        back=_case_url(case.reference),
    )


def _template_hint(account: DebtorAccount, template: officer_sent.TemplateChoice) -> str:
    ways = ", ".join(
        o.words.lower() + ("" if o.available else f" (not available: {o.why_not})")
        for o in template.channels
    )
    asks = "Asks for payment. " if template.asks_for_payment else ""
    return f"{asks}By {ways}."


def _channel_hints(templates: list[officer_sent.TemplateChoice]) -> list[str]:
    """Under each channel, why this debtor cannot be reached that way (if not)."""
    reasons: dict[str, str] = {}
    for template in templates:
        for option in template.channels:
            if not option.available and option.why_not:
                reasons[option.channel] = f"Not available: {option.why_not}"
    return [reasons.get(c.value, "") for c in CHANNEL_CHOICES]


def _chosen(args) -> tuple[str, str] | None:
    template, channel = args.get("template", ""), args.get("channel", "")
    if officer_sent.is_officer_template(template) and channel in officer_sent.CHANNELS:
        return template[:80], channel
    return None


def _preview_page(case, form: SendForm, shown, *, error: str | None = None, status: int = 200):
    return (
        render_template(
            "backoffice/correspondence/preview.html",
            case=case,
            form=form,
            preview=shown,
            error=error or shown.refused,
            note=form.note.data or "",
            back=url_for(
                "backoffice.write_correspondence",
                reference=case.reference,
                template=shown.template_key,
                channel=shown.channel,
            ),
        ),
        status,
    )


@bp.route("/accounts/<reference>/correspondence/write", methods=["GET", "POST"])
@requires(Permission.SEND_CORRESPONDENCE)
def write_correspondence(reference: str):
    case = case_or_404(reference)
    chosen = _chosen(request.form if request.method == "POST" else request.args)
    if chosen is None:
        flash("Choose what to send and how first")
        return redirect(_choose_url(case.reference))
    template, channel = chosen
    form = NoteForm(data={"template": template, "channel": channel})
    # "Change your note" on the preview posts the note back here to edit it.
    editing = request.method == "POST" and request.form.get("edit") == "1"
    if not editing and form.validate_on_submit():
        try:
            shown = officer_sent.preview(
                staff_actor(), case.id, template, channel, form.note.data or ""
            )
        except InvalidRequest as exc:
            form.note.errors.append(str(exc))
        else:
            send_form = SendForm(
                data={
                    "template": template,
                    "channel": channel,
                    "note": form.note.data or "",
                    # Made as the preview is shown: the outbox row's dedupe key.
                    "submission_key": secrets.token_urlsafe(24),
                },
                formdata=None,
            )
            return _preview_page(case, send_form, shown)
    try:
        shown = officer_sent.preview(staff_actor(), case.id, template, channel, "")
    except InvalidRequest as exc:
        flash(str(exc))
        return redirect(_choose_url(case.reference))
    return render_template(
        "backoffice/correspondence/write.html",
        case=case,
        form=form,
        preview=shown,
        back=_choose_url(case.reference),
    )


@bp.post("/accounts/<reference>/correspondence/send")
@requires(Permission.SEND_CORRESPONDENCE)
def send_correspondence(reference: str):
    case = case_or_404(reference)
    form = SendForm()
    chosen = _chosen(request.form)
    if chosen is None or not form.validate_on_submit():
        flash("Choose what to send and how first")
        return redirect(_choose_url(case.reference))
    template, channel = chosen
    note = (form.note.data or "")[: officer_sent.MAX_NOTE + 1]
    try:
        message = officer_sent.send(
            staff_actor(), case.id, template, channel, note, form.submission_key.data or ""
        )
    except InvalidRequest as exc:
        try:
            shown = officer_sent.preview(staff_actor(), case.id, template, channel, note)
        except InvalidRequest:
            flash(str(exc))
            return redirect(_choose_url(case.reference))
        form.submission_key.data = secrets.token_urlsafe(24)
        return _preview_page(case, form, shown, error=str(exc), status=200)
    return redirect(
        url_for("backoffice.correspondence_sent", reference=case.reference, message_id=message.id)
    )


@bp.get("/accounts/<reference>/correspondence/<int:message_id>")
@requires(Permission.SEND_CORRESPONDENCE)
def correspondence_sent(reference: str, message_id: int):
    case = case_or_404(reference)
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.account_id != case.id:
        abort(404)
    return render_template(
        "backoffice/correspondence/sent.html",
        case=case,
        message=message,
        summary=officer_sent.timeline_summary(message),
        letter_pdf=_letter_pdf_available(),
    )


def _letter_pdf_available() -> bool:
    return "backoffice.letter_pdf" in current_app.view_functions


@bp.get("/accounts/<reference>/messages")
@requires(Permission.VIEW_CASES)
def account_messages(reference: str):
    # The case page's messages section: the case summary on top, then the log.
    summary = case_view.case_summary(normalise_reference(reference), clock.today())
    if summary is None:
        abort(404)
    case = summary.account
    page = message_log.account_messages(case.id, _page_number())
    return render_template(
        "backoffice/correspondence/account_log.html",
        case=case,
        summary=summary,
        section="messages",
        page=page,
        letter_pdf=_letter_pdf_available(),
        retry_form=RetryForm(formdata=None, data={"return_to": request.full_path}),
        back=_case_url(case.reference),
    )


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and len(raw) < 6 else 1


class LogFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a search form: it reads, never changes anything

    status = SelectField(
        "Status",
        choices=[SelectChoice(k, w) for k, w in message_log.STATUS_FILTERS.items()],
        default="failed",
        validate_choice=False,
        validators=[_known("Select a status from the list")],
        widget=GovSelect(),
    )
    channel = SelectField(
        "Sent by",
        choices=[SelectChoice("", "Any way")]
        + [SelectChoice(c.value, c.label.split(" (")[0]) for c in CHANNEL_CHOICES],
        validate_choice=False,
        validators=[_known("Select how it was sent from the list")],
        widget=GovSelect(),
    )
    template = SelectField(
        "Template",
        choices=[],
        validate_choice=False,
        validators=[_known("Select a template from the list")],
        widget=GovSelect(),
    )
    written_from = StringField(
        "Written on or after",
        description="For example, 27/3/2026",
        filters=[strip_whitespace],
        validators=[Optional(), a_date("Written on or after")],
        widget=GovTextInput(),
    )
    written_to = StringField(
        "Written on or before",
        description="For example, 27/3/2026",
        filters=[strip_whitespace],
        validators=[Optional(), a_date("Written on or before")],
        widget=GovTextInput(),
    )
    submit = SubmitField("Apply filters", widget=GovSubmitInput())

    def validate_written_to(self, field):
        start = getattr(self.written_from, "parsed", None)
        end = getattr(field, "parsed", None)
        if start and end and end < start:
            raise ValidationError("Written on or before must be the same as or after the start")

    def wanted(self) -> message_log.MessageFilter:
        return message_log.MessageFilter(
            status=self.status.data or "failed",
            channel=self.channel.data or None,
            template=self.template.data or None,
            written_from=getattr(self.written_from, "parsed", None),
            written_to=getattr(self.written_to, "parsed", None),
        )


@bp.get("/messages")
@requires(Permission.VIEW_CASES)
def message_log_page():
    args = request.args.to_dict()
    args.setdefault("status", "failed")
    form = LogFilterForm(formdata=_Args(args))
    form.template.choices = [SelectChoice("", "Any template")] + [
        SelectChoice(key, name) for key, name in message_log.known_templates()
    ]
    page = None
    if form.validate():
        before = request.args.get("before", "")
        before_id = int(before) if before.isdigit() and len(before) < 12 else None
        page = message_log.all_messages(form.wanted(), before_id=before_id)
    older = None
    if page is not None and page.next_before_id is not None:
        older = {**request.args.to_dict(), "before": page.next_before_id}
    return render_template(
        "backoffice/correspondence/log.html",
        form=form,
        page=page,
        older=older,
        letter_pdf=_letter_pdf_available(),
        retry_form=RetryForm(formdata=None, data={"return_to": request.full_path}),
    )


class _Args(dict):
    """request.args with defaults, as the MultiDict WTForms reads."""

    def getlist(self, key):
        return [self[key]] if key in self else []


def _safe_return(path: str | None, fallback: str) -> str:
    path = path or ""
    if path.startswith("/backoffice/") and not path.startswith("//") and "\\" not in path:
        return path[:2000]
    return fallback


@bp.post("/messages/<int:message_id>/retry")
@requires(Permission.SEND_CORRESPONDENCE)
def retry_message(message_id: int):
    form = RetryForm()
    fallback = url_for("backoffice.message_log_page")
    if not form.validate_on_submit():
        abort(400)
    try:
        result = message_log.retry(staff_actor(), message_id)
    except NotFound:
        abort(404)
    except InvalidRequest as exc:
        flash(str(exc))
    else:
        if result.retried:
            flash(result.words, "success")
        else:
            flash(result.words)
    return redirect(_safe_return(form.return_to.data, fallback))

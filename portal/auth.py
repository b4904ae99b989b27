"""Portal logins: create one, add another account to it, sign in and out, reset a password.

Creating a login and adding an account are the same three steps (find the
account, send a code to a contact point on file, enter the code) followed by
a last step of their own; the step views are registered once for each
journey. The browser's session holds only ids and how far the journey got,
never a code or anything about the debtor.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from flask import (
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from wtforms.fields.choices import SelectChoice

from portal import bp, sign_in_lock
from portal.auth_forms import (
    ChooseContactForm,
    CreateLoginForm,
    EnterCodeForm,
    FindAccountForm,
    ForgotPasswordForm,
    RelationshipForm,
    ResetPasswordForm,
    SignInForm,
)
from portal.common import private
from shared.models import (
    Channel,
    CodePurpose,
    PortalRelationship,
    PortalUser,
    WebSessionEnd,
    WebSessionKind,
)
from shared.ratelimit import GuessLimits, Limit, limiter_for
from shared.services import portal_accounts, web_sessions
from shared.services.errors import Conflict, InvalidRequest
from shared.services.portal_accounts import (
    AccountLocked,
    CodeCheck,
    SignedInLogin,
    password_stamp,
)

SESSION_USER_KEY = "portal_user_id"
SESSION_SEEN_KEY = "last_seen"
SESSION_PASSWORD_KEY = "portal_password_stamp"
# The token of the server-side record (shared/services/web_sessions.py) that says
# this sign-in still stands: sign-out, idle and lifetime end it for good.
SESSION_TOKEN_KEY = "portal_session"
# last_seen is rewritten (a new cookie) at most this often, not on every request.
SEEN_RESOLUTION_SECONDS = 60
JOURNEY_KEY = "portal_journey"

# Wrong postcodes only, and never per reference alone (see GuessLimits).
FAILED_FINDS = GuessLimits(
    per_address=Limit("portal-link-find-failed-ip", 10, 15 * 60),
    per_address_and_reference=Limit("portal-link-find-failed-ip-reference", 5, 15 * 60),
)
CODES_PER_ACCOUNT = Limit("portal-code-send-account", 5, 60 * 60)
CODES_PER_IP = Limit("portal-code-send-ip", 10, 60 * 60)
SIGN_INS_PER_IP = Limit("portal-sign-in-ip", 50, 15 * 60)
RESETS_PER_IP = Limit("portal-reset-ip", 10, 15 * 60)
RESETS_PER_EMAIL = Limit("portal-reset-email", 3, 60 * 60)

NOT_FOUND = (
    "We could not find an account with those details. Check your account reference and postcode"
)
TOO_MANY_TRIES = "You have tried too many times. Wait 15 minutes and try again"
TOO_MANY_CODES = "We have sent too many codes for this account. Wait an hour and try again"
INCORRECT_CREDENTIALS = "Email address or password is incorrect"
LOCKED = (
    "Your account is locked because the password was entered wrongly too many times. "
    "Wait 15 minutes and try again, or reset your password"
)
CODE_MESSAGES = {
    CodeCheck.WRONG: "The security code is not correct. Check it and try again",
    CodeCheck.EXPIRED: "The security code has expired. Request a new code",
    CodeCheck.TOO_MANY_TRIES: (
        "You have entered the wrong code too many times. Request a new code"
    ),
}


# --- being signed in -----------------------------------------------------------------


def _idle_limit_seconds() -> int:
    return int(current_app.config["SESSION_IDLE_MINUTES"]) * 60


def _session_is_idle() -> bool:
    last_seen = session.get(SESSION_SEEN_KEY)
    return not isinstance(last_seen, int | float) or (
        time.time() - last_seen > _idle_limit_seconds()
    )


def current_portal_user() -> SignedInLogin | None:
    """The signed-in portal login for this request, or None (signed out, idle too long,
    or signed in longer ago than PORTAL_SESSION_MAX_HOURS; the server-side record
    decides, so a copy of the cookie ends with the original)."""
    # Kept on the request, not on g: an app context can outlive one request (the
    # test client reuses the test's), and a login must never leak into the next.
    if not hasattr(request, "portal_user"):
        user_id = session.get(SESSION_USER_KEY)
        user = None
        if isinstance(user_id, int) and not _session_is_idle():
            token = session.get(SESSION_TOKEN_KEY)
            check = web_sessions.check(WebSessionKind.PORTAL, token, user_id)
            request.portal_session_ended = check.ended
            if check.live:
                user = portal_accounts.signed_in_login(user_id)
        if user is not None and session.get(SESSION_PASSWORD_KEY) != user.password_stamp:
            # The password has changed since this session signed in (a reset, say, by
            # someone who feared another person knew it): this session has ended.
            user = None
        request.portal_user = user
    return request.portal_user


@bp.app_context_processor
def _signed_in_state() -> dict[str, bool]:
    # For the header on every portal page. Read from the session alone, never
    # the database: the error pages have the header too, and the 500 page must
    # render when the database is what broke.
    if not has_request_context():
        return {}
    signed_in = session.get(SESSION_USER_KEY) is not None and not _session_is_idle()
    return {"portal_signed_in": signed_in}


def _clear_session() -> None:
    session.clear()
    # The signed CSRF token Flask-WTF cached for this request was made from
    # the raw token just cleared; a form rendered after this needs a new one.
    g.pop("csrf_token", None)
    if hasattr(request, "portal_user"):
        del request.portal_user


def _here() -> str:
    query = request.query_string.decode("utf-8", "replace")
    return request.path + (f"?{query}" if query else "")


def login_required(view):
    """Send anyone not signed in (or idle for too long) to sign in, then back here."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if session.get(SESSION_USER_KEY) is not None and _session_is_idle():
            _clear_session()
            flash("You were signed out because you were inactive")
            return redirect(url_for("portal.sign_in", next=_here()))
        if current_portal_user() is None:
            ended = getattr(request, "portal_session_ended", None)
            _clear_session()
            if ended in _TIMED_OUT:
                flash(
                    _TIMED_OUT[ended].format(hours=current_app.config["PORTAL_SESSION_MAX_HOURS"])
                )
            return redirect(url_for("portal.sign_in", next=_here()))
        now = int(time.time())
        if now - session.get(SESSION_SEEN_KEY, 0) >= SEEN_RESOLUTION_SECONDS:
            session[SESSION_SEEN_KEY] = now
        return view(*args, **kwargs)

    return wrapper


_TIMED_OUT = {
    WebSessionEnd.IDLE: "You were signed out because you were inactive",
    WebSessionEnd.LIFETIME: (
        "You were signed out because you signed in more than {hours} hours ago. Sign in again"
    ),
}


def _sign_in(user: PortalUser) -> None:
    # A fresh session, so nothing from before signing in carries over, and a new
    # record and token: no session id survives from before signing in.
    _clear_session()
    session[SESSION_TOKEN_KEY] = web_sessions.start(
        WebSessionKind.PORTAL,
        user.id,
        user_agent=request.headers.get("User-Agent"),
        source_ip=request.remote_addr,
    )
    session[SESSION_USER_KEY] = user.id
    session[SESSION_PASSWORD_KEY] = password_stamp(user)
    session[SESSION_SEEN_KEY] = int(time.time())


# --- the shared steps: find the account, send a code, enter it -----------------------


@dataclass(frozen=True)
class Journey:
    name: str  # the prefix of its endpoint names: "create" or "link"
    purpose: CodePurpose
    title: str
    finish_endpoint: str
    needs_login: bool


CREATE = Journey(
    "create", CodePurpose.CREATE_LOGIN, "Create an account", "portal.create_account_details", False
)
LINK = Journey(
    "link", CodePurpose.LINK_ACCOUNT, "Add an account", "portal.link_account_relationship", True
)
_JOURNEYS = {j.name: j for j in (CREATE, LINK)}


def _step(rule: str, endpoint: str, methods=("GET", "POST")):
    """Register one step view at /account/create<rule> and /account/link<rule>."""

    def register(view):
        for journey in _JOURNEYS.values():
            wrapped = private(login_required(view) if journey.needs_login else view)
            bp.add_url_rule(
                f"/account/{journey.name}{rule}",
                f"{journey.name}_{endpoint}",
                wrapped,
                methods=list(methods),
                defaults={"journey": journey.name},
            )
        return view

    return register


def _progress(journey: Journey) -> dict:
    """How far this browser got in `journey` (empty if it is in another one, or none)."""
    state = session.get(JOURNEY_KEY) or {}
    if state.get("journey") != journey.name:
        return {}
    if journey.needs_login and state.get("portal_user_id") != session.get(SESSION_USER_KEY):
        return {}
    return state


def _save_progress(journey: Journey, **state) -> None:
    state["journey"] = journey.name
    if journey.needs_login:
        state["portal_user_id"] = session.get(SESSION_USER_KEY)
    session[JOURNEY_KEY] = state


def _url(journey: Journey, endpoint: str) -> str:
    return url_for(f"portal.{journey.name}_{endpoint}")


def _render(template: str, journey: Journey, status: int = 200, **context):
    return render_template(template, journey=journey, url=_url_helper(journey), **context), status


def _url_helper(journey: Journey):
    return lambda endpoint: _url(journey, endpoint)


@_step("", "account")
def find_account(journey: str):
    journey = _JOURNEYS[journey]
    form = FindAccountForm()
    if not form.validate_on_submit():
        return _render("portal/auth/find.html", journey, form=form)
    limiter = limiter_for(current_app)
    reference = portal_accounts.normalise_reference(form.reference.data)
    address = request.remote_addr or ""
    if FAILED_FINDS.refused(limiter, address, reference):
        form.reference.errors.append(TOO_MANY_TRIES)
        return _render("portal/auth/find.html", journey, 429, form=form)
    candidate = portal_accounts.start_link(reference, form.postcode.data)
    if candidate is None:
        FAILED_FINDS.failed(limiter, address, reference)
        # The wording never says which of the two was wrong.
        form.reference.errors.append(NOT_FOUND)
        return _render("portal/auth/find.html", journey, form=form)
    user_id = session.get(SESSION_USER_KEY)
    if journey.needs_login and candidate.account_id in portal_accounts.linked_account_ids(user_id):
        form.reference.errors.append("You can already see this account")
        return _render("portal/auth/find.html", journey, form=form)
    _save_progress(journey, account_id=candidate.account_id)
    return redirect(_url(journey, "account_send_code"))


@_step("/send-code", "account_send_code")
def choose_contact(journey: str):
    journey = _JOURNEYS[journey]
    progress = _progress(journey)
    if "account_id" not in progress:
        return redirect(_url(journey, "account"))
    points = portal_accounts.contact_points(progress["account_id"])
    if not points:
        return _render("portal/auth/no_contact.html", journey)
    form = ChooseContactForm()
    form.contact.choices = [
        SelectChoice(
            point.channel.value,
            f"{'Email' if point.channel == Channel.EMAIL else 'Text message to'} {point.masked}",
        )
        for point in points
    ]
    if not form.validate_on_submit():
        return _render("portal/auth/choose_contact.html", journey, form=form)
    limiter = limiter_for(current_app)
    if not limiter.hit(CODES_PER_IP, request.remote_addr or "") or not limiter.hit(
        CODES_PER_ACCOUNT, str(progress["account_id"])
    ):
        form.contact.errors.append(TOO_MANY_CODES)
        return _render("portal/auth/choose_contact.html", journey, 429, form=form)
    code_id = portal_accounts.send_code(
        progress["account_id"],
        Channel(form.contact.data),
        journey.purpose,
        portal_user_id=session.get(SESSION_USER_KEY) if journey.needs_login else None,
        source_ip=request.remote_addr,
    )
    _save_progress(
        journey, account_id=progress["account_id"], code_id=code_id, channel=form.contact.data
    )
    return redirect(_url(journey, "account_enter_code"))


@_step("/enter-code", "account_enter_code")
def enter_code(journey: str):
    journey = _JOURNEYS[journey]
    progress = _progress(journey)
    if "code_id" not in progress:
        return redirect(_url(journey, "account"))
    form = EnterCodeForm()
    context = {"form": form, "channel": Channel(progress["channel"])}
    if not form.validate_on_submit():
        return _render("portal/auth/enter_code.html", journey, **context)
    result = portal_accounts.check_code(
        progress["code_id"], form.code.data, source_ip=request.remote_addr
    )
    if result != CodeCheck.CORRECT:
        form.code.errors.append(CODE_MESSAGES[result])
        return _render("portal/auth/enter_code.html", journey, **context)
    _save_progress(
        journey,
        account_id=progress["account_id"],
        code_id=progress["code_id"],
        channel=progress["channel"],
        verified=True,
    )
    return redirect(url_for(journey.finish_endpoint))


def _verified_code(journey: Journey) -> int | None:
    progress = _progress(journey)
    return progress["code_id"] if progress.get("verified") else None


@bp.route("/account/create/your-details", methods=["GET", "POST"])
@private
def create_account_details():
    code_id = _verified_code(CREATE)
    if code_id is None:
        return redirect(url_for("portal.create_account"))
    form = CreateLoginForm()
    if form.validate_on_submit():
        try:
            user = portal_accounts.create_login(
                code_id, form.email.data, form.password.data, source_ip=request.remote_addr
            )
        except Conflict as exc:
            form.email.errors.append(str(exc))
        except InvalidRequest as exc:
            # The code's time ran out while they chose a password.
            flash(str(exc))
            session.pop(JOURNEY_KEY, None)
            return redirect(url_for("portal.create_account"))
        else:
            _sign_in(user)
            flash(
                f"Your account has been created. We have sent an email to {user.email} "
                "so you can confirm your email address",
                "success",
            )
            return redirect(url_for("portal.account_home"))
    return _render("portal/auth/create_login.html", CREATE, form=form)


@bp.route("/account/link/relationship", methods=["GET", "POST"])
@private
@login_required
def link_account_relationship():
    code_id = _verified_code(LINK)
    if code_id is None:
        return redirect(url_for("portal.link_account"))
    form = RelationshipForm()
    if form.validate_on_submit():
        try:
            portal_accounts.link_account(
                code_id,
                session[SESSION_USER_KEY],
                PortalRelationship(form.relationship.data),
                source_ip=request.remote_addr,
            )
        except (Conflict, InvalidRequest) as exc:
            flash(str(exc))
            session.pop(JOURNEY_KEY, None)
            return redirect(url_for("portal.link_account"))
        session.pop(JOURNEY_KEY, None)
        flash("The account has been added to your login", "success")
        return redirect(url_for("portal.account_home"))
    return _render("portal/auth/relationship.html", LINK, form=form)


@bp.get("/account/verify-email/<token>")
@private
def verify_email(token: str):
    user = portal_accounts.verify_email(token, source_ip=request.remote_addr)
    if user is None:
        return render_template("portal/auth/verify_email_failed.html"), 400
    return render_template("portal/auth/email_verified.html")


# --- signing in and out --------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    return target if portal_accounts.is_local_path(target) else url_for("portal.account_home")


@bp.route("/sign-in", methods=["GET", "POST"])
@private
def sign_in():
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if not form.validate_on_submit():
        return render_template("portal/auth/sign_in.html", form=form)
    if not limiter_for(current_app).hit(SIGN_INS_PER_IP, request.remote_addr or ""):
        form.email.errors.append(TOO_MANY_TRIES)
        return render_template("portal/auth/sign_in.html", form=form), 429
    try:
        user = portal_accounts.authenticate(
            form.email.data, form.password.data, request.remote_addr
        )
    except AccountLocked:
        form.email.errors.append(LOCKED)
        return render_template("portal/auth/sign_in.html", form=form)
    if user is None:
        # On the email field so the error summary has somewhere to link; the
        # wording never says which of the two was wrong, nor whether a login exists.
        locked = sign_in_lock.locked_after_wrong_try(form.email.data)
        form.email.errors.append(LOCKED if locked else INCORRECT_CREDENTIALS)
        return render_template("portal/auth/sign_in.html", form=form)
    sign_in_lock.signed_in(form.email.data)
    _sign_in(user)
    return redirect(_safe_next(form.next.data))


@bp.post("/sign-out")
def sign_out():
    user_id = session.get(SESSION_USER_KEY)
    if user_id is not None:
        portal_accounts.record_sign_out(
            user_id, source_ip=request.remote_addr, session_token=session.get(SESSION_TOKEN_KEY)
        )
    _clear_session()
    flash("You have signed out", "success")
    return redirect(url_for("portal.sign_in"))


# --- forgotten passwords -------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@private
def forgot_password():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("portal/auth/forgot_password.html", form=form)
    limiter = limiter_for(current_app)
    email = portal_accounts.normalise_email(form.email.data)
    # Over the limit: the same page, and no email (so it says nothing either way).
    if limiter.hit(RESETS_PER_IP, request.remote_addr or "") and limiter.hit(
        RESETS_PER_EMAIL, email
    ):
        portal_accounts.request_password_reset(email, source_ip=request.remote_addr)
    return redirect(url_for("portal.forgot_password_sent"))


@bp.get("/forgot-password/sent")
def forgot_password_sent():
    return render_template("portal/auth/forgot_password_sent.html")


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@private
def reset_password(token: str):
    if not portal_accounts.reset_link_valid(token):
        return render_template("portal/auth/reset_link_invalid.html"), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            portal_accounts.reset_password(token, form.password.data, source_ip=request.remote_addr)
        except InvalidRequest:
            return render_template("portal/auth/reset_link_invalid.html"), 400
        _clear_session()
        flash("Your password has been changed. Sign in with your new password", "success")
        return redirect(url_for("portal.sign_in"))
    return render_template("portal/auth/reset_password.html", form=form, token=token)

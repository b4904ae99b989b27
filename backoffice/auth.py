"""Who is signed in to the back office, what they may do, and signing in and out.

Signing in is two steps: the password page, then either setting up an
authenticator app (first sign-in, or after an administrator reset it) or
entering its current code. Between the steps the session holds only a
half-signed-in marker (STAFF_PENDING_KEY), which no back-office page accepts;
the full sign-in replaces the whole session with staff_id, the person's
session_version and last_seen.

Every back-office view declares its access with one of three decorators:
`requires(Permission...)` (signed in, with those permissions; none named
means any member of staff), `half_signed_in` (the sign-in steps) or `public`
(the password page). A view with none is refused outright (see
_every_view_declares_its_access), so forgetting the decorator fails closed.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import segno
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup

from backoffice import bp
from backoffice.forms import CodeForm, SignInForm
from shared.domain import two_factor
from shared.domain.permissions import Permission, role_has
from shared.extensions import db
from shared.models import StaffUser, WebSessionEnd, WebSessionKind
from shared.ratelimit import Limit, limiter_for
from shared.services import staff_auth, web_sessions
from shared.services.errors import InvalidRequest
from shared.services.staff_auth import AccountLocked, CodeRefused

STAFF_ID_KEY = "staff_id"
STAFF_VERSION_KEY = "session_version"
# The same key the portal uses: only one kind of person is signed in per
# session, as each sign-in starts a fresh one.
SEEN_KEY = "last_seen"
STAFF_PENDING_KEY = "staff_sign_in"
# The token of the server-side record (shared/services/web_sessions.py) that says
# this sign-in still stands: sign-out, idle and lifetime end it for good.
STAFF_SESSION_KEY = "staff_session"
_STAFF_KEYS = (STAFF_ID_KEY, STAFF_VERSION_KEY, STAFF_PENDING_KEY, STAFF_SESSION_KEY)

# How long someone has between the password and the code.
PENDING_LIFETIME_SECONDS = 10 * 60

ACCESS_ATTRIBUTE = "backoffice_access"
PUBLIC = "public"
HALF_SIGNED_IN = "half_signed_in"

INCORRECT_CREDENTIALS = "Email address or password is incorrect"
TOO_MANY_TRIES = (
    "There have been too many failed sign-in attempts from your network. "
    "Wait 15 minutes and try again"
)
FAILED_SIGN_INS_PER_IP = Limit("staff-sign-in-failures-ip", 20, 15 * 60)
SIGNED_IN_TOO_LONG = (
    "You were signed out because you signed in more than {hours} hours ago. Sign in again"
)


# --- being signed in ---------------------------------------------------------------


def _idle_limit_seconds() -> int:
    return int(current_app.config["SESSION_IDLE_MINUTES"]) * 60


def _now() -> int:
    return int(time.time())


def _is_idle() -> bool:
    last_seen = session.get(SEEN_KEY)
    return not isinstance(last_seen, int) or _now() - last_seen > _idle_limit_seconds()


def current_staff() -> StaffUser | None:
    """The signed-in member of staff for this request, or None.

    None when signed out, half signed in, idle for longer than
    SESSION_IDLE_MINUTES, signed in longer ago than STAFF_SESSION_MAX_HOURS,
    deactivated, or signed in under an older session_version (signed out
    everywhere, role or password changed). The server-side record decides the
    first three, so a copy of the cookie ends with the original.
    """
    if "staff_user" not in g:
        user = None
        staff_id = session.get(STAFF_ID_KEY)
        version = session.get(STAFF_VERSION_KEY)
        if isinstance(staff_id, int) and isinstance(version, int) and not _is_idle():
            token = session.get(STAFF_SESSION_KEY)
            check = web_sessions.check(WebSessionKind.STAFF, token, staff_id)
            g.staff_session_ended = check.ended
            user = db.session.get(StaffUser, staff_id) if check.live else None
            if user is not None and (not user.active or user.session_version != version):
                user = None
        g.staff_user = user
    return g.staff_user


def _clear_session() -> None:
    session.clear()
    # The signed CSRF token Flask-WTF cached for this request was made from
    # the raw token just cleared; a form rendered after this needs a new one.
    g.pop("csrf_token", None)
    g.pop("staff_user", None)


def _forget_staff() -> None:
    """Drop the back-office keys, leaving anything else (a portal sign-in) alone."""
    for key in _STAFF_KEYS:
        session.pop(key, None)
    if "portal_user_id" not in session:
        session.pop(SEEN_KEY, None)
    g.pop("staff_user", None)


def _declare(view, access) -> None:
    setattr(view, ACCESS_ATTRIBUTE, access)


def requires(*permissions: Permission):
    """Let the view run only for signed-in staff whose role has every one of `permissions`.

    Signed out (or idle, or ended elsewhere): a redirect to sign in. Signed in
    without the permission: 403. Each allowed request restarts the idle clock.
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_staff()
            if user is None:
                was_idle = session.get(STAFF_ID_KEY) is not None and (
                    _is_idle() or g.get("staff_session_ended") == WebSessionEnd.IDLE
                )
                too_long = g.get("staff_session_ended") == WebSessionEnd.LIFETIME
                _forget_staff()
                if was_idle:
                    flash("You were signed out because you had not done anything for a while")
                elif too_long:
                    flash(
                        SIGNED_IN_TOO_LONG.format(
                            hours=current_app.config["STAFF_SESSION_MAX_HOURS"]
                        )
                    )
                return redirect(url_for("backoffice.sign_in"))
            if not role_has(user.role, *permissions):
                abort(403)
            session[SEEN_KEY] = _now()
            return view(*args, **kwargs)

        _declare(wrapper, frozenset(permissions))
        return wrapper

    return decorate


def public(view):
    """A page anyone may open (only the password page)."""
    _declare(view, PUBLIC)
    return view


@dataclass(frozen=True)
class Pending:
    """Someone whose password was right, on their way to the code step (or, after a
    temporary password and a right code, to choosing their own password)."""

    staff_id: int
    session_version: int
    code_accepted: bool = False


def _pending() -> Pending | None:
    marker = session.get(STAFF_PENDING_KEY)
    if not isinstance(marker, dict):
        return None
    staff_id, version, started = marker.get("id"), marker.get("version"), marker.get("at")
    if not all(isinstance(value, int) for value in (staff_id, version, started)):
        return None
    if _now() - started > PENDING_LIFETIME_SECONDS:
        return None
    return Pending(staff_id, version, marker.get("code_ok") is True)


def half_signed_in(view):
    """The sign-in steps after the password: only for someone who has just given it."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        pending = _pending()
        if pending is None:
            expired = STAFF_PENDING_KEY in session
            _forget_staff()
            if expired:
                flash(staff_auth.SIGN_IN_AGAIN)
            return redirect(url_for("backoffice.sign_in"))
        return view(pending, *args, **kwargs)

    _declare(wrapper, HALF_SIGNED_IN)
    return wrapper


@bp.before_request
def _every_view_declares_its_access():
    # `g` belongs to the app context, which outlives a request whenever the
    # caller already holds one (the test suite does): start from nothing, so
    # one browser's signed-in person or CSRF token never serves another's.
    g.pop("staff_user", None)
    g.pop("staff_session_ended", None)
    g.pop("csrf_token", None)
    # Fail closed: a back-office view without requires/half_signed_in/public
    # is a mistake, and must not quietly serve its page to everyone.
    view = current_app.view_functions.get(request.endpoint)
    if not hasattr(view, ACCESS_ATTRIBUTE):
        abort(403)


@bp.app_context_processor
def _staff_context() -> dict[str, object]:
    # Only what this request already looked up: the error pages use the same
    # layout and must render without the database.
    user = g.get("staff_user")
    return {
        "signed_in_staff": user,
        "staff_can": (lambda *permissions: user is not None and role_has(user.role, *permissions)),
        "Permission": Permission,
    }


def _restart(message: str):
    """Back to the password page, saying why, with nothing of the attempt kept."""
    _clear_session()
    flash(message)
    return redirect(url_for("backoffice.sign_in"))


def _start_sign_in(user: StaffUser) -> None:
    # A fresh session, so nothing from before signing in carries over.
    _clear_session()
    session[STAFF_PENDING_KEY] = {"id": user.id, "version": user.session_version, "at": _now()}


def _finish_sign_in(user: StaffUser) -> None:
    _clear_session()
    # A new record and token at every sign-in: no session id survives from before it.
    session[STAFF_SESSION_KEY] = web_sessions.start(
        WebSessionKind.STAFF,
        user.id,
        user_agent=request.headers.get("User-Agent"),
        source_ip=request.remote_addr,
    )
    session[STAFF_ID_KEY] = user.id
    session[STAFF_VERSION_KEY] = user.session_version
    session[SEEN_KEY] = _now()


def _after_code(user: StaffUser, message: str | None = None):
    """Signed in after the code; or, on a temporary password, on to choosing one's own
    first (backoffice/first_password.py), still only half signed in until then."""
    if user.must_change_password:
        _start_sign_in(user)
        session[STAFF_PENDING_KEY] = {**session[STAFF_PENDING_KEY], "code_ok": True}
        return redirect(url_for("backoffice.choose_new_password"))
    _finish_sign_in(user)
    if message:
        flash(message, "success")
    return redirect(url_for("backoffice.home"))


def qr_code_svg(uri: str, label: str) -> Markup:
    """The URI as an inline SVG QR code: no image request, nothing for the CSP to allow."""
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, title=label, dark="#0b0c0c", light="#ffffff", svgclass="app-qr-code"
    )
    # role=img with its <title> as the name, so screen readers announce it once.
    return Markup(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))


# --- the views ---------------------------------------------------------------------


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        limiter, address = limiter_for(current_app), request.remote_addr or ""
        # Each account locks after a few wrong passwords; this stops one address
        # trying one password against many accounts. Only failures count, so an
        # office of officers behind one address is never held up by signing in.
        if limiter.exceeded(FAILED_SIGN_INS_PER_IP, address):
            staff_auth.record_throttled_sign_in(source_ip=request.remote_addr)
            form.email.errors.append(TOO_MANY_TRIES)
            return render_template("backoffice/sign_in.html", form=form), 429
        try:
            user = staff_auth.check_staff_password(
                form.email.data, form.password.data, source_ip=request.remote_addr
            )
        except AccountLocked as exc:
            form.email.errors.append(str(exc))
            return render_template("backoffice/sign_in.html", form=form)
        if user is not None:
            _start_sign_in(user)
            if user.totp_enrolled:
                return redirect(url_for("backoffice.enter_code"))
            return redirect(url_for("backoffice.set_up_authenticator"))
        limiter.hit(FAILED_SIGN_INS_PER_IP, address)
        # Attached to the email field so the error summary has somewhere to
        # link; the wording never says which of the two was wrong.
        form.email.errors.append(INCORRECT_CREDENTIALS)
    return render_template("backoffice/sign_in.html", form=form)


@bp.route("/sign-in/set-up-authenticator", methods=["GET", "POST"])
@half_signed_in
def set_up_authenticator(pending: Pending):
    source_ip = request.remote_addr
    try:
        enrolment = staff_auth.begin_enrolment(
            pending.staff_id, pending.session_version, source_ip=source_ip
        )
    except InvalidRequest as exc:
        return _restart(str(exc))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = staff_auth.confirm_enrolment(
                pending.staff_id, pending.session_version, form.code.data, source_ip=source_ip
            )
        except CodeRefused as exc:
            form.code.errors.append(str(exc))
        except (AccountLocked, InvalidRequest) as exc:
            return _restart(str(exc))
        else:
            return _after_code(user, "Your authenticator app is set up")
    return render_template(
        "backoffice/set_up_authenticator.html",
        form=form,
        qr_code=qr_code_svg(enrolment.uri, "QR code for your authenticator app"),
        secret=two_factor.grouped(enrolment.secret),
    )


@bp.route("/sign-in/code", methods=["GET", "POST"])
@half_signed_in
def enter_code(pending: Pending):
    form = CodeForm()
    if form.validate_on_submit():
        try:
            user = staff_auth.verify_code(
                pending.staff_id,
                pending.session_version,
                form.code.data,
                source_ip=request.remote_addr,
            )
        except CodeRefused as exc:
            form.code.errors.append(str(exc))
        except (AccountLocked, InvalidRequest) as exc:
            return _restart(str(exc))
        else:
            return _after_code(user)
    return render_template("backoffice/enter_code.html", form=form)


@bp.post("/sign-out")
@requires()
def sign_out():
    staff_auth.record_sign_out(
        current_staff().id,
        source_ip=request.remote_addr,
        session_token=session.get(STAFF_SESSION_KEY),
    )
    _clear_session()
    flash("You have signed out", "success")
    return redirect(url_for("backoffice.sign_in"))


@bp.post("/sign-out-everywhere")
@requires()
def sign_out_everywhere():
    staff_auth.sign_out_everywhere(current_staff().id, source_ip=request.remote_addr)
    _clear_session()
    flash("You have signed out on every device and browser", "success")
    return redirect(url_for("backoffice.sign_in"))

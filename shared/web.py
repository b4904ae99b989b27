"""Web plumbing shared by both faces: templates, assets, headers, error pages."""

from __future__ import annotations

import base64
import hashlib
from collections import ChainMap
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    render_template,
    request,
    send_from_directory,
    session,
)
from flask.templating import Environment as FlaskEnvironment
from flask_wtf.csrf import CSRFError
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import BytecodeCache, ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from markupsafe import Markup
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from shared import request_guard
from shared.clock import as_london
from shared.config import PROJECT_ROOT
from shared.formatting import format_gbp, london_day, london_time, long_date
from shared.reports.charts import render_chart
from shared.reports.values import format_value

GOVUK_FRONTEND_DIR = PROJECT_ROOT / "static" / "govuk-frontend"

# Session keys that mean someone is signed in: a back-office officer, or a
# portal login (portal.auth.SESSION_USER_KEY).
SIGNED_IN_SESSION_KEYS = ("staff_id", "portal_user_id")

# Served from our own folder rather than Flask's static route because GOV.UK
# Frontend's CSS (built with $govuk-assets-path "/assets/") refers to
# url(/assets/images/...), and its manifest and icons live beside them.
ASSETS_ENDPOINT = "govuk_frontend_assets"
_CACHEABLE_ENDPOINTS = frozenset({"static", ASSETS_ENDPOINT})

_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


class _TemplateGlobals(ChainMap):
    """A template's globals (its own over the environment's), as Jinja keeps them,
    except that `keys()` is a plain set.

    Every `{% from ... import %}` makes Jinja work out `context globals -
    template.globals.keys()`, which against a ChainMap's key view is one Python
    `any()` over both maps per global: about 270 a page here (15 imports times 18
    globals), a tenth of a signed-in page's rendering time. A set makes it one
    C-level difference; the globals seen are exactly the same."""

    def keys(self):  # type: ignore[override]
        return set(self)


class JinjaEnvironment(FlaskEnvironment):
    def make_globals(self, d):
        return _TemplateGlobals({} if d is None else d, self.globals)


class _ProcessBytecodeCache(BytecodeCache):
    """Compiled templates shared by every app this process builds. Jinja checks each
    entry against its source's checksum, so an edited template is compiled afresh; a
    process that builds one app (a web or worker process) gains nothing and loses
    nothing, but the test suite builds an app per test and would otherwise compile
    every template it renders again each time."""

    def __init__(self) -> None:
        self._compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._compiled[bucket.key] = bucket.bytecode_to_string()


_BYTECODE_CACHE = _ProcessBytecodeCache()


def init_app(app: Flask) -> None:
    app.jinja_env.bytecode_cache = _BYTECODE_CACHE
    # The govuk_frontend_jinja and govuk_frontend_wtf templates import each
    # other as "govuk_frontend_jinja/..." and "govuk_frontend_wtf/...", but
    # neither package nests its templates under its own name: a prefix loader
    # supplies that first path segment.
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(app.template_folder),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    # As GOV.UK Frontend Flask does: the macros are written for whitespace control.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)
    app.context_processor(_council_context)
    # Every page, letter and PDF writes money and dates the same way.
    app.jinja_env.globals.update(gbp=format_gbp, long_date=long_date, cached=cached_fragment)
    # Management reports (shared/reports/): a value in words, a chart as inline SVG.
    app.jinja_env.globals.update(format_report_value=format_value, render_chart=render_chart)
    # Stored timestamps are naive UTC; people read them in England's time:
    # `{{ stamp|london_time }}`, `long_date(stamp|london_day)` for the day alone, and
    # `stamp|as_london` for an aware datetime (a <time> element's offset).
    app.jinja_env.filters.update(
        london_time=london_time, london_day=london_day, as_london=as_london
    )
    app.add_url_rule(
        "/assets/<path:filename>", endpoint=ASSETS_ENDPOINT, view_func=_govuk_frontend_asset
    )
    _register_error_pages(app)
    request_guard.init_app(app)

    csp = content_security_policy(
        govuk_template_inline_script_hashes(app), form_targets=[checkout_origin(app.config)]
    )
    production = app.config.get("APP_ENV") == "production"

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", _PERMISSIONS_POLICY)
        if production:
            # Only where TLS is certain: on the plain-HTTP demo a browser would
            # remember it and refuse http://127.0.0.1 for a year.
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint not in _CACHEABLE_ENDPOINTS and (
            is_backoffice_path() or is_signed_in()
        ):
            # Case details and personal data must not be kept by the browser
            # or a shared proxy, nor come back with the Back button after
            # signing out.
            headers["Cache-Control"] = "no-store"
        return response


def is_backoffice_path() -> bool:
    return request.path == "/backoffice" or request.path.startswith("/backoffice/")


def is_signed_in() -> bool:
    return any(key in session for key in SIGNED_IN_SESSION_KEYS)


def _council_context() -> dict[str, object]:
    config = current_app.config
    return {
        "council_name": config["COUNCIL_NAME"],
        "council_phone": config["COUNCIL_PHONE"],
        "council_email": config["COUNCIL_EMAIL"],
    }


def _govuk_frontend_asset(filename: str):
    return send_from_directory(GOVUK_FRONTEND_DIR / "assets", filename)


# --- Content Security Policy ---------------------------------------------------


class _InlineScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self._inside = False

    def handle_starttag(self, tag, attrs):
        if tag == "script" and not dict(attrs).get("src"):
            self._inside = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._inside = False

    def handle_data(self, data):
        if self._inside:
            self.scripts[-1] += data


def inline_scripts(html: str) -> list[str]:
    """The exact text of every inline <script> in `html` (what a CSP hash covers)."""
    parser = _InlineScripts()
    parser.feed(html)
    parser.close()
    return parser.scripts


def csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def govuk_template_inline_script_hashes(app: Flask) -> list[str]:
    """CSP hashes for the inline scripts GOV.UK Frontend's page template writes.

    The stock template.html puts a one-line script at the top of <body>, outside
    any block we could override, that adds the `govuk-frontend-supported` class;
    without it initAll() refuses to start any component. A hash is the clean
    way to allow it: the text is constant, so the header is the same on every
    response (no per-request nonce to thread through every render), and we
    compute it here from the template as installed, so upgrading
    govuk-frontend-jinja cannot silently leave a stale hash behind.
    """
    # The stock header and footer blocks cannot render without parameters
    # (our layouts replace them too); the script sits outside both.
    html = app.jinja_env.from_string(
        '{% extends "govuk_frontend_jinja/template.html" %}'
        "{% block header %}{% endblock %}{% block footer %}{% endblock %}"
    ).render()
    return [csp_hash(script) for script in inline_scripts(html)]


def checkout_origin(config) -> str:
    """Where the pay form's redirect goes: the provider's hosted checkout page.

    Browsers apply form-action to the redirects that follow a form post too, so
    without this the 303 to the payment page is blocked and nobody can pay.
    """
    api_base = str(config.get("STRIPE_API_BASE") or "")
    if not api_base:
        return "https://checkout.stripe.com"
    parts = urlsplit(api_base)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(script_hashes: list[str], form_targets: list[str] = ()) -> str:
    script_src = " ".join(["'self'", *script_hashes])
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self'",
            "img-src 'self' data:",
            # Arial is a system font: nothing is ever downloaded as a font.
            "font-src 'none'",
            "object-src 'none'",
            "base-uri 'self'",
            " ".join(["form-action 'self'", *form_targets]),
            "frame-ancestors 'none'",
        ]
    )


# --- Error pages ---------------------------------------------------------------


def _register_error_pages(app: Flask) -> None:
    for status in (400, 403, 404, 500):
        app.register_error_handler(status, _error_page)
    # CSRFError is a 400, but the likely cause (a form left open until its
    # token expired) deserves its own explanation.
    app.register_error_handler(CSRFError, _csrf_error_page)
    # A busy database (SQLite's one writer, a PostgreSQL serialization failure) is
    # not a fault: 503 with Retry-After, which a provider's webhook retries too.
    app.register_error_handler(OperationalError, _database_busy_page)
    # A value the database refuses (text longer than its column, a number out of its
    # range) that no form check caught: the request's fault, so a 400 page, never a
    # 500. Logged as an error all the same: the form that let it through needs a check.
    app.register_error_handler(DataError, _value_refused_page)


def _layout() -> str:
    return "backoffice/layout.html" if is_backoffice_path() else "portal/layout.html"


def _error_page(error: HTTPException):
    # The templates read only config and the request, never the database, so
    # the 500 page still renders when the database is what broke.
    status = error.code or 500
    return render_template(f"errors/{status}.html", layout=_layout()), status


def _csrf_error_page(error: CSRFError):
    return render_template("errors/csrf.html", layout=_layout()), 400


DATABASE_BUSY_RETRY_SECONDS = 2


def _database_busy_page(error: OperationalError):
    from shared.extensions import db
    from shared.services.unit_of_work import is_database_busy

    if not is_database_busy(error):
        raise error  # a real fault: Flask turns it into the 500 page
    current_app.logger.warning("database busy, answered 503: %s", error.orig)
    db.session.rollback()
    page = render_template("errors/503.html", layout=_layout())
    return page, 503, {"Retry-After": str(DATABASE_BUSY_RETRY_SECONDS)}


def _value_refused_page(error: DataError):
    from shared.extensions import db

    current_app.logger.error(
        "database refused a value on %s %s: %s", request.method, request.path, error.orig
    )
    db.session.rollback()
    return render_template("errors/400.html", layout=_layout()), 400


def cached_fragment(key: str, *, caller) -> Markup:
    """`{% call cached("footer") %}...{% endcall %}`: render the body once per app and
    reuse it. Only for markup that depends on nothing but the app's settings and the
    key (the GOV.UK header and footer macros cost as much as a page's own content)."""
    fragments = current_app.extensions.setdefault("page_fragments", {})
    html = fragments.get(key)
    if html is None:
        html = fragments[key] = Markup(caller())
    return html

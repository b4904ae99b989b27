"""Refuse, with the 400 page, a request carrying a NUL character in its path, query
string or form: no one types one, and PostgreSQL refuses it in any text value (a
query's as well as a row's), which would otherwise be a server error deep in a view.
"""

from __future__ import annotations

from flask import Flask, abort, request

NUL = "\x00"


def _has_nul(pairs) -> bool:
    return any(NUL in key or NUL in value for key, value in pairs)


def refuse_nul_characters() -> None:
    if NUL in request.path or _has_nul(request.args.items(multi=True)):
        abort(400)
    # Only what forms send: a webhook's JSON is the provider's to get right, and its
    # signature check must see the body untouched.
    form = request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
    if form and _has_nul(request.form.items(multi=True)):
        abort(400)


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul_characters)

"""Every form of both blueprints needs its CSRF token: each POST route, reached as the
person who may use it (the same map of routes and askers as the no-server-error test),
posted without a token gets the "start again" page and changes nothing.

Built from the URL map, so a new POST route is checked the moment it exists: the
no-server-error test fails until it is told how to reach the route."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import AuditLog, ContactEvent, LedgerEntry, OutboxMessage
from tests.frozen_clock import frozen_clock
from tests.views.pages import parse, text
from tests.views.test_no_server_error_on_any_input import (
    HOW_TO_REACH,
    NOT_FUZZED,
    POST_ROUTES,
    _path,
    become,
    build_world,
)

# build_world's debts and plans are dated from the frozen TODAY.
pytestmark = frozen_clock

# Rows any successful change would add: an audit row at least, for everything an
# officer or a debtor does; money and messages besides.
WITNESSES = (AuditLog, LedgerEntry, ContactEvent, OutboxMessage)


def _counts(db) -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in WITNESSES
    }


@pytest.mark.parametrize("blueprint", ["portal.", "backoffice."])
def test_every_form_posted_without_its_csrf_token_is_refused_and_changes_nothing(
    app, db, blueprint, isolated_limiter
):
    isolated_limiter(app)
    assert app.config.get("WTF_CSRF_ENABLED", True), "CSRF must be on in the test app"
    world = build_world(db)
    client = app.test_client()
    endpoints = [e for e in POST_ROUTES if e.startswith(blueprint) and e not in NOT_FUZZED]
    assert endpoints, "no POST routes found"
    accepted = []
    for endpoint in endpoints:
        reach = HOW_TO_REACH[endpoint]
        db.session.rollback()
        become(client, reach.who, world)
        if reach.session:
            with client.session_transaction() as session:
                session.update(reach.session(world))
        before = _counts(db)
        response = client.post(_path(app, endpoint, world), data={"anything": "1"})
        db.session.rollback()
        refused = response.status_code == 400 and (
            text(parse(response).h1) == "Sorry, you’ll have to start again"
        )
        if not refused or _counts(db) != before:
            accepted.append(f"{endpoint}: {response.status_code}")
    assert accepted == []

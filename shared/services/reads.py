"""Running a read-only page's queries without the ORM session's bookkeeping.

`Session.execute` costs about 0.2 ms of Python per statement before and after
PostgreSQL does anything (ORM compile state, identity-map and result set-up),
which on a signed-in page of five or six statements was more than the
database's own time. These helpers run the same statement on the session's
connection, inside the same transaction, and return plain Core rows.

Only for reads of columns (never whole ORM objects), and note the one thing
they skip: pending changes in the session are not flushed first. A page that
has just added something and wants to read it back must flush, or use
`db.session.execute`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from shared.extensions import db


def rows(statement: sa.Executable, params: Mapping[str, Any] | None = None) -> sa.CursorResult:
    return db.session.connection().execute(statement, params or {})

"""Pages that only read run in one READ ONLY transaction ended by COMMIT
(shared.services.unit_of_work.read_only), so psycopg keeps its prepared statements."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from shared.models import ServiceDepartment
from shared.services.unit_of_work import read_only
from tests.conftest import _is_postgres
from tests.factories import make_department


def _departments(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ServiceDepartment))


def test_a_read_only_page_reads_in_a_transaction_and_leaves_none_open(app, db):
    make_department()
    seen = {}

    @read_only
    def page():
        seen["count"] = _departments(db)
        seen["in_transaction"] = db.session().in_transaction()
        return "page"

    assert page() == "page"
    assert seen == {"count": 1, "in_transaction": True}
    assert not db.session().in_transaction()


def test_a_read_only_page_leaves_a_session_with_work_in_hand_alone(app, db):
    # A test (or a caller) that has already begun: the decorator neither commits its
    # work nor makes it read-only.
    db.session.add(ServiceDepartment(code="PENDING", name="Pending"))

    @read_only
    def page():
        return _departments(db)

    assert page() == 1  # autoflushed in the caller's transaction
    assert db.session().in_transaction()
    db.session.rollback()
    assert _departments(db) == 0


def test_a_page_that_fails_part_way_commits_nothing(app, db):
    @read_only
    def page():
        _departments(db)
        raise RuntimeError("the template broke")

    with pytest.raises(RuntimeError):
        page()
    # Still inside the failed page's transaction: the request's teardown rolls it back.
    assert db.session().in_transaction()
    db.session.rollback()


@pytest.mark.skipif(
    not _is_postgres(),
    reason="SQLite has no read-only transactions; the PostgreSQL run of the suite covers this",
)
def test_postgresql_refuses_a_write_inside_a_read_only_page_and_nothing_is_saved(app, db):
    @read_only
    def page():
        db.session.add(ServiceDepartment(code="SNEAKY", name="Written by a GET"))
        db.session.flush()

    with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
        page()
    db.session.rollback()
    assert _departments(db) == 0
    # The connection goes back to the pool writable again.
    make_department()
    assert _departments(db) == 1

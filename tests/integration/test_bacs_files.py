"""Building, withdrawing and releasing the day's Bacs collection file, read back by the
independent fixed-width reader (tests/bacs_standard18_reader.py)."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa

from shared.models import (
    AuditLog,
    BacsFile,
    BacsFileStatus,
    Collection,
    CollectionStatus,
    ContactEvent,
    Mandate,
    MandateStatus,
    OutboxMessage,
)
from shared.services import actors
from shared.services.actors import SYSTEM
from shared.services.directdebit import files
from shared.services.errors import Conflict, InvalidRequest
from tests.bacs_standard18_reader import read
from tests.factories import make_staff
from tests.frozen_clock import TODAY, frozen_clock
from tests.integration.test_bacs_files_world import (
    ENTRY_DAY,
    PROCESSING_DAY,
    make_collection,
    make_mandate,
)

pytestmark = frozen_clock


@pytest.fixture
def day(db):
    """A day with something of every kind: two debits on active mandates (one account
    with two), a new mandate (0N), a cancellation we owe Bacs (0C), and three collections
    that cannot be taken (notice too late, mandate not lodged, collections stopped) and
    one whose entry day has passed."""
    active = make_mandate(holder="Zoë O'Brien", sort_code="401276", account_number="00123456")
    other = make_mandate()
    new = make_mandate(MandateStatus.PENDING_SUBMISSION)
    gone = make_mandate(
        MandateStatus.CANCELLED, needs_cancel_instruction=True, lodged_in_file_id=None
    )
    pending = make_mandate(MandateStatus.PENDING_SUBMISSION)
    stopped = make_mandate(collections_stopped_reason="Advance notice disputed (ADDACS D)")
    return {
        "taken": [
            make_collection(active, pence=2_500, code="01"),
            make_collection(active, pence=1_001, code="17"),
            make_collection(other, pence=99_999, code="17"),
        ],
        "late_notice": make_collection(other, pence=500, earliest=date(2026, 6, 22)),
        "not_lodged": make_collection(pending, pence=700),
        "stopped": make_collection(stopped, pence=800),
        "missed": make_collection(other, pence=900, entry_day=date(2026, 6, 17)),
        "active": active,
        "other": other,
        "new": new,
        "pending": pending,
        "gone": gone,
    }


def _ids(rows):
    return {r.id for r in rows}


def test_the_file_carries_what_was_selected_in_records_the_reader_accepts(day, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    content = files.stored_content(built.file_id).decode("ascii")
    parsed = read(content)

    assert parsed.processing_day == PROCESSING_DAY and parsed.created == TODAY
    assert parsed.volume_serial == built.serial == "000001"
    assert parsed.owner.strip() == "999123"
    debits = parsed.by_code("01", "17", "18", "19")
    assert sorted(r.amount_pence for r in debits) == [1_001, 2_500, 99_999]
    assert parsed.debit_total == 103_500 == built.debit_total_pence
    assert (parsed.debit_count, parsed.credit_count, parsed.instruction_count) == (3, 1, 3)
    (contra,) = parsed.contras
    assert contra.amount_pence == parsed.credit_total == 103_500
    assert (contra.sort_code, contra.account_number) == ("200000", "90909090")
    zoe = [r for r in debits if r.reference == day["active"].reference]
    assert {(r.sort_code, r.account_number, r.name) for r in zoe} == {
        ("401276", "00123456", "ZOE OBRIEN")
    }
    instructions = {(r.code, r.reference) for r in parsed.by_code("0N", "0C")}
    assert instructions == {
        ("0N", day["new"].reference),
        ("0N", day["pending"].reference),
        ("0C", day["gone"].reference),
    }
    assert all(r.amount_pence == 0 for r in parsed.by_code("0N", "0C"))
    assert built.sha256 == hashlib.sha256(content.encode("ascii")).hexdigest()


def test_building_marks_what_the_file_carries_and_holds_back_the_rest_with_reasons(day, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    db.session.expire_all()

    submitted = db.session.scalars(
        sa.select(Collection).where(Collection.status == CollectionStatus.SUBMITTED)
    ).all()
    assert _ids(submitted) == _ids(day["taken"])
    assert {c.bacs_file_id for c in submitted} == {built.file_id}
    for key in ("new", "pending"):
        mandate = db.session.get(Mandate, day[key].id)
        assert mandate.status == MandateStatus.SUBMITTED
        assert (mandate.lodged_in_file_id, mandate.lodged_on) == (built.file_id, PROCESSING_DAY)
    assert db.session.get(Mandate, day["gone"].id).cancel_in_file_id == built.file_id

    summary = built.summary
    assert summary["by_code"]["17"] == {"count": 2, "total_pence": 1_001 + 99_999}
    assert summary["by_code"]["99"] == {"count": 1, "total_pence": 103_500}
    held = {item["collection_id"]: item for item in summary["held_back"]}
    assert set(held) == {day["late_notice"].id, day["not_lodged"].id, day["stopped"].id}
    assert held[day["late_notice"].id]["reason"] == "notice_too_late"
    assert "22 June 2026" in held[day["late_notice"].id]["why"]
    assert held[day["not_lodged"].id]["reason"] == "mandate_not_lodged"
    assert "ADDACS D" in held[day["stopped"].id]["why"]
    assert [m["collection_id"] for m in summary["missed"]] == [day["missed"].id]
    for key in ("late_notice", "not_lodged", "stopped", "missed"):
        assert db.session.get(Collection, day[key].id).status == CollectionStatus.SCHEDULED


def test_each_account_gets_one_timeline_line_and_audit_row_without_bank_details(day, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)

    events = db.session.scalars(
        sa.select(ContactEvent).where(ContactEvent.account_id == day["active"].account_id)
    ).all()
    assert len(events) == 1
    assert "2 Direct Debit collections of £35.01 to be taken on 19 June 2026" in events[0].summary
    audits = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "bacs_file.built")
    ).all()
    per_account = [a for a in audits if a.account_id is not None]
    assert len(per_account) == 5  # active, other, new, pending, gone
    assert len([a for a in audits if a.account_id is None]) == 1
    written = " ".join(str(a.after) for a in audits) + " ".join(
        e.summary for e in db.session.scalars(sa.select(ContactEvent))
    )
    assert "00123456" not in written and "401276" not in written
    assert built.file_id


def test_a_second_build_for_the_day_is_refused_and_names_the_first(day, db):
    leader = make_staff(full_name="Tess Leader")
    first = files.build_file(SYSTEM, PROCESSING_DAY)
    with pytest.raises(files.AlreadyBuilt, match="already built on .* by the system") as refused:
        files.build_file(actors.staff(leader.id), PROCESSING_DAY)
    assert refused.value.file.file_id == first.file_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BacsFile)) == 1


@pytest.mark.parametrize(
    ("when", "words"),
    [
        (date(2026, 6, 20), "Saturday, not a Bacs processing day"),
        (date(2026, 8, 31), "bank holiday"),
        (date(2026, 6, 17), "input day, 16 June 2026, which has passed"),
    ],
)
def test_a_day_that_cannot_have_a_file_is_refused_and_nothing_changes(day, db, when, words):
    with pytest.raises(InvalidRequest, match=words):
        files.build_file(SYSTEM, when)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BacsFile)) == 0


def test_a_day_with_nothing_due_builds_nothing_but_says_what_was_held_back(db):
    make_collection(make_mandate(MandateStatus.SUBMITTED), pence=700)
    with pytest.raises(files.NothingToSubmit, match="1 held back") as refused:
        files.build_file(SYSTEM, PROCESSING_DAY)
    assert refused.value.summary["held_back_count"] == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BacsFile)) == 0


def test_withdrawing_releases_everything_and_a_rebuild_takes_it_again_with_a_new_serial(day, db):
    leader = make_staff(full_name="Tess Leader")
    first = files.build_file(SYSTEM, PROCESSING_DAY)
    change = files.withdraw_file(actors.staff(leader.id), first.file_id, "  Wrong totals ")
    db.session.expire_all()

    assert change.changed and change.file.status == BacsFileStatus.WITHDRAWN
    assert change.file.withdrawn_by == "Tess Leader"
    assert change.file.withdrawal_reason == "Wrong totals"
    for c in day["taken"]:
        row = db.session.get(Collection, c.id)
        assert (row.status, row.bacs_file_id) == (CollectionStatus.SCHEDULED, None)
    new = db.session.get(Mandate, day["new"].id)
    assert (new.status, new.lodged_in_file_id, new.lodged_on) == (
        MandateStatus.PENDING_SUBMISSION,
        None,
        None,
    )
    assert db.session.get(Mandate, day["gone"].id).cancel_in_file_id is None
    again = files.withdraw_file(actors.staff(leader.id), first.file_id, "twice")
    assert not again.changed and again.file.withdrawal_reason == "Wrong totals"

    second = files.build_file(SYSTEM, PROCESSING_DAY)
    assert second.serial == "000002"
    assert read(files.stored_content(second.file_id).decode()).volume_serial == "000002"
    assert second.debit_total_pence == first.debit_total_pence == 103_500
    assert second.instruction_count == 3
    db.session.expire_all()
    assert {db.session.get(Collection, c.id).bacs_file_id for c in day["taken"]} == {second.file_id}


def test_a_withdrawal_needs_a_reason(day, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    with pytest.raises(InvalidRequest, match="why"):
        files.withdraw_file(SYSTEM, built.file_id, "   ")
    assert files.get_file(built.file_id).status == BacsFileStatus.BUILT


def test_releasing_activates_the_mandates_it_lodged_and_changes_nothing_else(day, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    change = files.release_file(SYSTEM, built.file_id, BacsFileStatus.BUILT)
    db.session.expire_all()

    assert change.changed and change.file.status == BacsFileStatus.RELEASED
    for key in ("new", "pending"):
        mandate = db.session.get(Mandate, day[key].id)
        assert mandate.status == MandateStatus.ACTIVE and mandate.activated_at is not None
    assert {db.session.get(Collection, c.id).status for c in day["taken"]} == {
        CollectionStatus.SUBMITTED
    }
    assert (
        files.stored_content(built.file_id).decode()
        == db.session.get(BacsFile, built.file_id).content
    )
    twice = files.release_file(SYSTEM, built.file_id, BacsFileStatus.BUILT)
    assert not twice.changed
    releases = db.session.scalars(
        sa.select(AuditLog).where(
            AuditLog.action == "bacs_file.released", AuditLog.account_id.is_(None)
        )
    ).all()
    assert len(releases) == 1
    with pytest.raises(Conflict, match="cannot be withdrawn"):
        files.withdraw_file(SYSTEM, built.file_id, "too late")


def test_a_withdrawn_file_cannot_be_released(day, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    files.withdraw_file(SYSTEM, built.file_id, "Wrong day")
    with pytest.raises(Conflict, match="withdrawn .* cannot be released"):
        files.release_file(SYSTEM, built.file_id, BacsFileStatus.BUILT)
    assert db.session.get(Mandate, day["new"].id).status == MandateStatus.PENDING_SUBMISSION


def test_the_daily_job_builds_tomorrows_file_and_emails_the_team_once(day, db, app):
    from shared.jobs.bacs_files import build_bacs_file

    result = build_bacs_file(TODAY.isoformat())
    again = build_bacs_file(TODAY.isoformat())

    assert result["created"] and result["processing_day"] == PROCESSING_DAY.isoformat()
    assert again == {"processing_day": "2026-06-18", "created": False, "serial": "000001"}
    (email,) = db.session.scalars(sa.select(OutboxMessage)).all()
    assert email.recipient == app.config["COUNCIL_EMAIL"]
    assert "ready to check and release" in email.subject
    assert "Debits: 3, totalling £1,035.00" in email.body
    assert email.dedupe_key == files.alert_dedupe_key(result_file_id(db))


def result_file_id(db) -> int:
    return db.session.scalar(sa.select(BacsFile.id))


def test_a_download_gives_the_stored_bytes_and_is_recorded(day, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    view, content = files.download_file(SYSTEM, built.file_id)
    assert hashlib.sha256(content).hexdigest() == view.sha256
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditLog.action == "bacs_file.downloaded")
        )
        == 1
    )


def test_the_entry_day_of_the_file_is_the_working_day_after_processing(day, db):
    built = files.build_file(SYSTEM, PROCESSING_DAY)
    assert (built.input_day, built.entry_day) == (TODAY, ENTRY_DAY)
    assert files.next_processing_day(TODAY) == PROCESSING_DAY
    assert files.next_processing_day(date(2026, 6, 20)) == date(2026, 6, 23)

"""Payers' bank details are encrypted at rest under BANK_DETAILS_ENCRYPTION_KEYS: a copy
of the database does not give them away, nothing prints them in full, and the keys
can be rotated."""

from __future__ import annotations

import base64

import pytest
import sqlalchemy as sa

from shared.config import load_config
from shared.models import AuditLog, Mandate, MandateSource, MandateStatus, ModulusOutcome
from shared.models.encrypted import UndecryptableValue
from shared.services.directdebit.bank_details import BankDetails, open_sealed, seal
from tests.factories import make_account

KEY_A = base64.urlsafe_b64encode(b"a" * 32).decode()
KEY_B = base64.urlsafe_b64encode(b"b" * 32).decode()
DETAILS = BankDetails("089999", "66374958")


def use_keys(app, setting: str) -> None:
    parsed = load_config(environ={"BANK_DETAILS_ENCRYPTION_KEYS": setting})
    app.config["BANK_DETAILS_ENCRYPTION_KEYS"] = parsed["BANK_DETAILS_ENCRYPTION_KEYS"]


def add_mandate(db, details: BankDetails = DETAILS) -> Mandate:
    account = make_account()
    mandate = Mandate(
        account_id=account.id,
        reference=f"{account.reference}-01",
        account_holder_name="J SMITH",
        bank_details_encrypted=seal(details),
        account_ending=details.account_ending,
        modulus_outcome=ModulusOutcome.VALID,
        source=MandateSource.PORTAL,
        status=MandateStatus.PENDING_SUBMISSION,
    )
    db.session.add(mandate)
    db.session.commit()
    return mandate


def stored_row(db, mandate_id: int) -> str:
    row = db.session.execute(
        sa.text("SELECT * FROM mandates WHERE id = :id"), {"id": mandate_id}
    ).one()
    return " ".join(str(value) for value in row)


def reencrypt(app):
    return app.test_cli_runner().invoke(args=["bacs", "reencrypt-bank-details"])


def test_the_row_holds_neither_the_sort_code_nor_the_account_number(app, db):
    mandate = add_mandate(db)
    row = stored_row(db, mandate.id)
    assert "66374958" not in row and "089999" not in row
    assert open_sealed(mandate.bank_details_encrypted) == DETAILS
    assert mandate.account_ending == "58"


def test_the_details_never_print_in_full():
    shown = f"{DETAILS!r} {DETAILS}"
    assert "66374958" not in shown and "089999" not in shown
    assert DETAILS.masked_account == "******58"
    assert DETAILS.masked_sort_code == "08-**-**"
    assert DETAILS.formatted_sort_code == "08-99-99"


@pytest.mark.parametrize("sort_code, account", [("08999", "66374958"), ("089999", "6637495x")])
def test_details_that_are_not_six_and_eight_digits_are_refused(sort_code, account):
    with pytest.raises(ValueError):
        BankDetails(sort_code, account)


def test_rotation_reads_old_details_rewrites_them_under_the_new_key_then_needs_only_it(app, db):
    use_keys(app, KEY_A)
    mandate = add_mandate(db)
    use_keys(app, f"{KEY_B},{KEY_A}")
    result = reencrypt(app)
    assert result.exit_code == 0, result.output
    assert "Re-encrypted the bank details of 1 mandate." in result.output
    use_keys(app, KEY_B)
    db.session.expire_all()
    assert open_sealed(db.session.get(Mandate, mandate.id).bank_details_encrypted) == DETAILS
    again = reencrypt(app)
    assert "of 0 mandates" in again.output
    audits = db.session.scalars(
        sa.select(AuditLog).where(AuditLog.action == "mandates.bank_details_reencrypted")
    ).all()
    assert len(audits) == 1


def test_details_under_a_key_no_longer_configured_are_refused_and_nothing_changes(app, db):
    use_keys(app, KEY_A)
    mandate = add_mandate(db)
    before = stored_row(db, mandate.id)
    use_keys(app, KEY_B)
    with pytest.raises(UndecryptableValue, match="BANK_DETAILS_ENCRYPTION_KEYS"):
        open_sealed(mandate.bank_details_encrypted)
    result = reencrypt(app)
    assert result.exit_code == 1
    assert f"mandate ids {mandate.id}" in result.output
    assert "Nothing was changed." in result.output
    assert stored_row(db, mandate.id) == before

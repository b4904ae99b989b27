"""One-time security codes that prove someone can read a contact point already on file.

Only a keyed hash of the code is stored; the code itself exists in the
outbox message that carries it and nowhere else.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from shared.extensions import db
from shared.models.accounts import Channel
from shared.models.base import created_at_column, enum_type


class CodePurpose(enum.StrEnum):
    CREATE_LOGIN = "create_login"  # a new portal login for this debtor account
    LINK_ACCOUNT = "link_account"  # an existing login adds this debtor account


class PortalOneTimeCode(db.Model):
    __tablename__ = "portal_one_time_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    # Who asked, when a signed-in login is adding an account.
    portal_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("portal_users.id"))
    purpose: Mapped[CodePurpose] = mapped_column(enum_type(CodePurpose, "code_purpose"))
    channel: Mapped[Channel] = mapped_column(enum_type(Channel, "code_channel"))
    salt: Mapped[str] = mapped_column(sa.String(32))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    wrong_attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime())
    # Set when the right code was entered, then when the login or link it
    # allowed was made: a code opens one door once.
    verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    created_at: Mapped[datetime] = created_at_column()

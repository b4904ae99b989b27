"""The recovery ladder (dunning): each department's policy and stages, the message
templates its stages send, and the runs that move overdue invoices up the ladder.

A run moves invoices with set-based SQL (shared/services/dunning/); each move is a
row here, unique per invoice and stage, so running the same date twice (or a run
that died half way, run again) moves and writes nothing twice.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.extensions import db
from shared.models.base import created_at_column, enum_type, utcnow
from shared.models.invoices import RecoveryStage


class TemplateChannel(enum.StrEnum):
    LETTER = "letter"
    EMAIL = "email"
    SMS = "sms"


class Language(enum.StrEnum):
    ENGLISH = "en"
    WELSH = "cy"


class DunningPolicy(db.Model):
    """One service department's recovery ladder, edited by an administrator."""

    __tablename__ = "dunning_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("service_departments.id"), unique=True)
    # An account whose overdue total on the department's invoices is below this is
    # sent nothing (the letter would cost more than it recovers).
    minimum_balance_pence: Mapped[int] = mapped_column(default=1000)
    # Whether the daily scheduled run moves this department's debts; if not, only a
    # run started by a person does.
    automatic: Mapped[bool] = mapped_column(default=False)
    # Bumped on every edit: a form posted against an older version is refused.
    version: Mapped[int] = mapped_column(default=1)
    updated_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)
    created_at: Mapped[datetime] = created_at_column()

    department = relationship("ServiceDepartment")
    stages: Mapped[list[DunningStage]] = relationship(
        back_populates="policy", order_by="DunningStage.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("minimum_balance_pence >= 0", name="minimum_not_negative"),
    )


class DunningStage(db.Model):
    """A rung of a department's ladder: which stage, when, by which channels, saying what."""

    __tablename__ = "dunning_stages"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("dunning_policies.id"))
    stage: Mapped[RecoveryStage] = mapped_column(enum_type(RecoveryStage, "dunning_stage"))
    position: Mapped[int]
    # Days after the due date at which a run moves a debt to this stage; None for a
    # stage only an officer moves a debt to (legal, enforcement).
    days_after_due: Mapped[int | None]
    # The channels this stage may use, e.g. ["letter", "email", "sms"]: a debtor gets
    # the first of their preferred channels (where they consented) the list allows,
    # else the first the list names that can reach them.
    channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    # MessageTemplate.key of what this stage sends (None: it sends nothing).
    template_key: Mapped[str | None] = mapped_column(sa.String(80))

    policy: Mapped[DunningPolicy] = relationship(back_populates="stages")

    __table_args__ = (
        sa.UniqueConstraint("policy_id", "stage"),
        sa.UniqueConstraint("policy_id", "position"),
        sa.CheckConstraint("stage <> 'none'", name="stage_not_none"),
        sa.CheckConstraint(
            "days_after_due IS NULL OR days_after_due BETWEEN 0 AND 3650",
            name="days_after_due_in_range",
        ),
    )


class MessageTemplate(db.Model):
    """What a letter, email or text says, with named placeholders ({balance},
    {payment_reference}, ...) checked when saved (shared/domain/message_templates.py).

    The body is plain text in paragraphs separated by blank lines: letters and HTML
    email are laid out from it (escaped) inside the council's own layout, so no
    template can carry markup or fetch anything."""

    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80))
    channel: Mapped[TemplateChannel] = mapped_column(enum_type(TemplateChannel, "template_channel"))
    language: Mapped[Language] = mapped_column(
        enum_type(Language, "template_language"), default=Language.ENGLISH
    )
    name: Mapped[str] = mapped_column(sa.String(120))
    subject: Mapped[str | None] = mapped_column(sa.String(200))  # email and letter heading
    body: Mapped[str] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(default=1)
    updated_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow, onupdate=utcnow)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (sa.UniqueConstraint("key", "channel", "language"),)


class DunningRunStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class DunningRun(db.Model):
    """One executed run for a business date (dry runs are not kept). One row per date:
    running the date again resumes or repeats it, and the moves' uniqueness makes
    the repeat change nothing."""

    __tablename__ = "dunning_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_date: Mapped[date] = mapped_column(sa.Date, unique=True)
    status: Mapped[DunningRunStatus] = mapped_column(
        enum_type(DunningRunStatus, "dunning_run_status"), default=DunningRunStatus.RUNNING
    )
    # None: the scheduler started it.
    started_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    started_at: Mapped[datetime] = mapped_column(sa.DateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime())
    # Progress, for the page that shows a run in progress.
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    # What it did, by department and stage: moved, value, skipped by reason.
    summary: Mapped[dict | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = created_at_column()


class DunningMove(db.Model):
    """An invoice moved to a stage by a run (or by an officer: run_id None)."""

    __tablename__ = "dunning_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dunning_runs.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(sa.ForeignKey("invoices.id"))
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("debtor_accounts.id"), index=True)
    from_stage: Mapped[RecoveryStage] = mapped_column(enum_type(RecoveryStage, "move_from_stage"))
    to_stage: Mapped[RecoveryStage] = mapped_column(enum_type(RecoveryStage, "move_to_stage"))
    outstanding_pence: Mapped[int]
    # The one message the debtor was sent for this run (shared by their invoices).
    outbox_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"))
    moved_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        # The idempotency of runs: an invoice reaches each stage once.
        sa.UniqueConstraint("invoice_id", "to_stage"),
    )

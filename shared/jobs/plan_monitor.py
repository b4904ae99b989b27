"""The daily plan monitor as RQ jobs (the work itself is shared/services/plan_monitor.py).

The scheduler runs `enqueue_todays_plan_monitor` once a day (shared/jobs/cron_config.py).
It enqueues `monitor_plans(day)` under the job id "plans-monitor-{day}", once per
day however often it is asked (shared/jobs/daily.py). The monitor is idempotent
anyway; the job id just saves a pointless second pass.
"""

from __future__ import annotations

from datetime import date

from flask import has_app_context
from redis import Redis

from shared import clock
from shared.jobs.context import app_context
from shared.jobs.daily import QUEUE, DailyJob, enqueue_for_day, enqueue_from_scheduler

__all__ = ["QUEUE", "enqueue_plan_monitor", "enqueue_todays_plan_monitor", "job_id"]


def job_id(day: date) -> str:
    """One monitor job per day, whoever enqueues it."""
    return DAILY.job_id(day)


def monitor_plans(day: str | None = None) -> dict[str, int]:
    """Run the plan monitor for `day` (ISO date; default today); returns its counts."""
    from shared.services import plan_monitor

    on = date.fromisoformat(day) if day else None
    if has_app_context():
        return plan_monitor.run(on).as_dict()
    with app_context():
        return plan_monitor.run(on).as_dict()


DAILY = DailyJob(
    monitor_plans, "plans-monitor", "monitor payment plans for {day}", job_timeout=30 * 60
)


def enqueue_plan_monitor(connection: Redis, day: date) -> bool:
    """Queue the monitor for `day`; False when that day's job already exists."""
    return enqueue_for_day(connection, DAILY, day)


def enqueue_todays_plan_monitor() -> bool:
    """The scheduler's daily entry: queue today's monitor on the scheduler's Redis."""
    return enqueue_from_scheduler(DAILY, clock.today())

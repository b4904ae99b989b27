"""Periodic jobs, loaded by the `scheduler` process: `rq cron shared.jobs.cron_config`.

RQ's cron loader imports this module and collects every `cron.register(...)` call
(`interval=` seconds, or `cron="*/5 * * * *"`). Interval jobs are enqueued once when
the scheduler starts and then every interval. The jobs run on the `rq worker`
processes, so the queue must be one of shared.jobs.queues.QUEUE_NAMES.

Do not import this module from application code: importing it registers the jobs in
RQ's module-level registry. Later issues add batch jobs here.
"""

from rq import cron

from shared.jobs.bacs_files import enqueue_todays_bacs_file
from shared.jobs.directdebit import enqueue_todays_posting, enqueue_todays_sync
from shared.jobs.dunning import enqueue_todays_dunning_run
from shared.jobs.invoice_imports import sweep_queued_imports
from shared.jobs.invoice_schedules import enqueue_todays_periodic_invoices
from shared.jobs.journal import enqueue_yesterdays_journal
from shared.jobs.maintenance import heartbeat
from shared.jobs.outbox import sweep_outbox
from shared.jobs.payments import reconcile_card_checkouts
from shared.jobs.plan_monitor import enqueue_todays_plan_monitor
from shared.jobs.print_batches import enqueue_todays_print_batch
from shared.jobs.report_packs import enqueue_last_months_packs
from shared.jobs.web_sessions import delete_old_web_sessions

HEARTBEAT_INTERVAL_SECONDS = 60
OUTBOX_SWEEP_INTERVAL_SECONDS = 60

# Liveness: proves the scheduler enqueues and a worker executes (see docs/operations.md).
# On "high" so a backlog of letters on "low" cannot make the scheduler look dead; ttl
# drops beats that no worker picked up within 5 minutes instead of letting them pile up.
cron.register(
    heartbeat,
    queue_name="high",
    interval=HEARTBEAT_INTERVAL_SECONDS,
    job_timeout=30,
    ttl=300,
    result_ttl=600,
)

# Card checkouts whose webhook never came: ask the provider (see
# shared/services/card_payments.py). Sessions are left 15 minutes first.
cron.register(
    reconcile_card_checkouts,
    queue_name="default",
    interval=10 * 60,
    job_timeout=300,
    ttl=600,
)

# Outbox rows left pending (Redis was down at commit, or RQ's retries ran out) and
# rows a dead worker left "sending" (see shared/jobs/outbox.py). On "high" with the
# messages it enqueues; ttl drops sweeps no worker picked up before the next one.
cron.register(
    sweep_outbox,
    queue_name="high",
    interval=OUTBOX_SWEEP_INTERVAL_SECONDS,
    job_timeout=120,
    ttl=OUTBOX_SWEEP_INTERVAL_SECONDS,
    result_ttl=600,
)

# The daily payment plan monitor (shared/services/plan_monitor.py), early morning UTC
# so overnight payments are in. This light job only enqueues the day's monitor under
# the job id "plans-monitor-{day}" (shared/jobs/plan_monitor.py), so a second
# scheduler or a restart cannot run one day's monitor twice.
cron.register(
    enqueue_todays_plan_monitor,
    queue_name="low",
    cron="0 6 * * *",
    job_timeout=60,
    ttl=6 * 3600,
    result_ttl=24 * 3600,
)

# Direct Debit (shared/jobs/directdebit.py), early morning in England (04:30 and 05:00 UTC,
# 05:30 and 06:00 in summer): first the collections whose entry day has come are posted
# as payments ("dd-post-{day}"), before the plan monitor reads the day's payments; then
# every account with a live mandate has its collections and advance notices brought up to
# date ("dd-sync-{day}"), before officers build the day's Bacs file.
cron.register(
    enqueue_todays_posting,
    queue_name="low",
    cron="30 4 * * *",
    job_timeout=60,
    ttl=6 * 3600,
    result_ttl=24 * 3600,
)
cron.register(
    enqueue_todays_sync,
    queue_name="low",
    cron="0 5 * * *",
    job_timeout=60,
    ttl=6 * 3600,
    result_ttl=24 * 3600,
)

# Periodic invoices due today (shared/services/invoice_schedule_runs.py), before the working
# day. This light job only enqueues the day's run under the job id
# "invoices-periodic-{day}" (shared/jobs/invoice_schedules.py); a period is raised once
# however many runs there are (a UNIQUE row per schedule and period).
cron.register(
    enqueue_todays_periodic_invoices,
    queue_name="low",
    cron="15 6 * * *",
    job_timeout=60,
    ttl=6 * 3600,
    result_ttl=24 * 3600,
)

# The daily journal to the general ledger (shared/services/journal.py) for the day that
# ended at midnight in England: 02:15 UTC is after midnight in England in summer and
# winter, and leaves a transaction open at midnight hours to commit before the day is
# written. This light job only enqueues that day's journal under the job id
# "gl-journal-{day}" (shared/jobs/journal.py), so it is written once.
cron.register(
    enqueue_yesterdays_journal,
    queue_name="low",
    cron="15 2 * * *",
    job_timeout=60,
    ttl=6 * 3600,
    result_ttl=24 * 3600,
)

# Invoice imports uploaded while Redis was down (shared/jobs/invoice_imports.py): the
# upload enqueues its own job after commit; this picks up any left queued.
cron.register(
    sweep_queued_imports,
    queue_name="low",
    interval=5 * 60,
    job_timeout=60,
    ttl=5 * 60,
    result_ttl=600,
)

# Signed-in session records that ended (or lapsed) more than 30 days ago
# (shared/services/web_sessions.py): one DELETE, once a day at a quiet hour.
cron.register(
    delete_old_web_sessions,
    queue_name="low",
    cron="30 3 * * *",
    job_timeout=300,
    ttl=6 * 3600,
    result_ttl=24 * 3600,
)

# The day's Bacs collection file (shared/services/directdebit/files.py), built in the
# morning of each Bacs working day so a team leader can check and release it before
# the Bacs input deadline. This light job only enqueues the day's build under the job id
# "bacs-file-{day}" (shared/jobs/bacs_files.py); a processing day has one file in play.
cron.register(
    enqueue_todays_bacs_file,
    queue_name="low",
    cron="30 6 * * *",
    job_timeout=60,
    ttl=6 * 3600,
    result_ttl=24 * 3600,
)

# The recovery ladder's daily run (shared/services/dunning/runs.py) for the departments
# whose policy is automatic, at 07:00 UTC on working days: after the Direct Debit posting
# and the plan monitor (a payment or plan in overnight is not chased), before the print
# batch is built. This light job only enqueues the day's run under the job id
# "dunning-run-{YYYYMMDD}" (shared/jobs/dunning.py); a run moves and sends once per date.
cron.register(
    enqueue_todays_dunning_run,
    queue_name="low",
    cron="0 7 * * 1-5",
    job_timeout=60,
    ttl=6 * 3600,
    result_ttl=24 * 3600,
)

# The day's print batch of letters (shared/services/messages/print_batches.py) at 16:00 in
# England on working days: registered at 15:00 and 16:00 UTC, and the light job enqueues
# only once it is 16:00 in England, under the job id "print-batch-{YYYYMMDD}"
# (shared/jobs/print_batches.py), so the day's batch is built once, summer or winter.
cron.register(
    enqueue_todays_print_batch,
    queue_name="low",
    cron="0 15,16 * * 1-5",
    job_timeout=60,
    ttl=3600,
    result_ttl=24 * 3600,
)

# Each department's monthly report pack (shared/services/report_packs.py) for the month
# that has just ended, at 06:00 UTC on the 1st (the 1st in England too, summer or winter).
# This light job only enqueues the month's run under the job id "report-packs-YYYY-MM"
# (shared/jobs/report_packs.py); a department gets one pack a month however many runs
# there are, and a pack that failed is built again by the next run.
cron.register(
    enqueue_last_months_packs,
    queue_name="low",
    cron="0 6 1 * *",
    job_timeout=60,
    ttl=6 * 3600,
    result_ttl=24 * 3600,
)

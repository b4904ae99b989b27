"""After a sign-up, change or cancellation commits, the account's collections are brought
into line by `shared.jobs.directdebit.sync_account(account_id)` (schedule, notify,
cancel what the mandate no longer covers).

One job per account waits at a time (its id names the account), and it reads the
state when it runs, so two changes in quick succession need one run. If Redis cannot
be reached the commit stands and the failure is logged: the daily sweep
(`sync_accounts_with_live_mandates`) picks the account up.
"""

from __future__ import annotations

from flask import has_app_context


def enqueue_sync(account_id: int, mandate_id: int, version: int) -> bool:
    """Queue the account's collections sync for a mandate change just committed; False
    when it could not be queued or one is waiting already. `mandate_id` and `version`
    say which change asked (for tests and logs)."""
    if not has_app_context():
        return False
    from shared.jobs.directdebit import enqueue_sync as enqueue_accounts

    return enqueue_accounts([account_id]) == 1

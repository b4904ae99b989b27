"""RQ jobs: queue names, job functions, the outbox dispatcher and schedules."""

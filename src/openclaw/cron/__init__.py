"""Scheduled agent turns: job schedules (`every`, `at`, cron expressions) and the jobs' store.
The scheduler (cron/scheduler.py) runs them in the gateway."""

"""Scheduled agent turns: job schedules (`every`, `at`, cron expressions) and the jobs' store.
The gateway's scheduler (gateway/scheduler.py) runs them."""

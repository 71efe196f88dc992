"""Heartbeats: the agent's own periodic turn (`agents.defaults.heartbeat`), run by the cron
scheduler, silent unless something needs attention."""

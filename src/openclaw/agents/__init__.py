"""Agents: workspaces now; the agent loop, models and sessions arrive with their issues."""

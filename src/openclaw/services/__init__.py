"""Managed services per profile: systemd user units, LaunchAgents, Scheduled Tasks.

File generation is pure (`render_*` functions of a `ServiceSpec`); `lifecycle`
drives the platform's service manager.
"""

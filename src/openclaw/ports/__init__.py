"""Ports: footprints, the host-wide instance scan, and the base-port planner."""

from openclaw.ports.footprint import Footprint, footprint_for, format_ports, resolve_base_port

__all__ = ["Footprint", "footprint_for", "format_ports", "resolve_base_port"]

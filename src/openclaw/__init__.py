"""openclaw for Python: many isolated OpenClaw gateways on one host."""

__version__ = "0.1.0"

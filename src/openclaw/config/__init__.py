"""Config: the `openclaw.json` schema, safe reads and writes, history and redaction."""

from openclaw.config.model import ConfigSnapshot, Issue
from openclaw.config.store import load_valid_config, read_config, update_config, write_config

__all__ = ["ConfigSnapshot", "Issue", "load_valid_config", "read_config", "update_config", "write_config"]

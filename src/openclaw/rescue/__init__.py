"""The rescue bot: operator commands that inspect and repair other instances on this host."""

"""Client side of the protocol: finding a gateway and calling it (no server imports)."""

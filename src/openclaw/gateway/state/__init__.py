"""The running gateway as handlers see it: its state, presence, devices, diagnostics and run streams."""

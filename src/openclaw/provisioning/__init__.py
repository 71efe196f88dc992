"""Creating and shaping an instance: `setup` (the non-interactive minimum) and `onboard` (the wizard)."""

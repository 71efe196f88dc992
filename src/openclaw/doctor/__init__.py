"""Doctor: find (and, with --fix, safely repair) what goes wrong within and between instances."""

"""Skills: `SKILL.md` folders found in upstream's roots, gated by what the host has, listed to the
model by name and description (it reads a file when one applies)."""

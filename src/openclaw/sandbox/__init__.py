"""Where the agent's tools may reach: the per-instance fence and the optional full sandbox.

`settings` reads the policy from config, `hidden` finds what no tool may see on this host, `view`
turns both into a mount table, `fsaccess` walks that table for the file tools (in this process,
without following symlinks out), and `bwrap` / `landlock` apply it to `exec` and what it starts.
`confine` ties them together per tool call; `explain` describes the result.
"""

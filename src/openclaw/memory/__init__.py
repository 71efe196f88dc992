"""Agent memory: `MEMORY.md`, `USER.md` and dated notes under `memory/`, indexed for
`memory_search` (SQLite FTS5, optionally with embeddings) and read back with `memory_get`."""

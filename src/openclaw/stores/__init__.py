"""Upstream's SQLite stores, read and written where upstream keeps them, so either implementation can run
on the same state dir with nothing to migrate."""

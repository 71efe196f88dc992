"""The `openclaw` command line: a thin layer over the library packages."""

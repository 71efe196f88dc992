"""`python -m openclaw` runs the same CLI as the `openclaw` command."""

from openclaw.cli.main import main

if __name__ == "__main__":
    main()

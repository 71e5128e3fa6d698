"""Allow ``python -m pgx``."""

from pgx.cli import run

run()

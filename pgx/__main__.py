"""Allow ``python -m pgx``."""

from pgx.cli import main

raise SystemExit(main())

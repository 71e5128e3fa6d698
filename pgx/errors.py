"""Exceptions that the CLI turns into one-line messages and exit codes."""


class PgxError(Exception):
    """Base class: ``exit_code`` is what ``pgx`` exits with."""

    exit_code = 1


class UsageError(PgxError):
    """Wrong command-line usage (exit 2)."""

    exit_code = 2


class InputError(PgxError):
    """Bad input file: the message names the file, the line where known, and the fix (exit 3)."""

    exit_code = 3

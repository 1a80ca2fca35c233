"""Errors that reach the user as one clear line.

Anything raised as an `OrkestraError` is a problem with the user's input or
environment (a broken config file, a malformed ballots file, a database from a
newer version). The CLI prints its message on one line and exits with status 2;
the TUI refuses to start with the same line. Any other exception is a bug.
"""

from __future__ import annotations


class OrkestraError(Exception):
    """A problem the user can fix, described in one line."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(OrkestraError):
    """A command was called with arguments that do not make sense."""

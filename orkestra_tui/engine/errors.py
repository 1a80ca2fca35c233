"""The engine's errors for requests it cannot carry out as asked, and the problems a request can have."""

from __future__ import annotations

from collections.abc import Sequence

from orkestra_tui.errors import OrkestraError
from orkestra_tui.records import record


class EngineError(OrkestraError):
    """A request the engine cannot carry out as asked (shown to the user as one line)."""


@record
class FieldProblem:
    """What is wrong with one field of a request, in one line."""

    field: str
    message: str


class RequestRejected(EngineError):
    """A request with problems, each tied to its field; the first is the one-line message."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        super().__init__(problems[0].message)
        self.problems = tuple(problems)

    @property
    def field(self) -> str:
        """The field of the first problem."""
        return self.problems[0].field

    def by_field(self) -> dict[str, str]:
        """Each field's problems joined in one line, in the order they were found."""
        return problems_by_field(self.problems)


def problems_by_field(problems: Sequence[FieldProblem]) -> dict[str, str]:
    """Each field's problems joined in one line, in the order they were found, for a form."""
    joined: dict[str, str] = {}
    for problem in problems:
        joined[problem.field] = "; ".join(filter(None, (joined.get(problem.field), problem.message)))
    return joined


class VoteRunElsewhere(EngineError):
    """Another live process on this machine is running this decision's vote: it is left to that one."""

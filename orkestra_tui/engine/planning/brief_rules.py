"""The one check of a new project's brief: its name, features, involvement, agents and method.

`Planner.start` (behind the Plan screen's brief form and `orkestra plan`) and
`Engine.create_project` ask this module, so a rule and its wording live here
once. Each problem carries the field it concerns (one of FIELDS), as a
decision's do (see decision_rules), so the form shows it under that field.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Protocol

from orkestra_tui.engine.errors import FieldProblem
from orkestra_tui.engine.models import Involvement
from orkestra_tui.engine.voting.decision_rules import method_problems


class Brief(Protocol):
    """The parts of a brief (`planning.Brief`) these rules read; planning uses them, so not imported."""

    @property
    def name(self) -> str: ...
    @property
    def features(self) -> Sequence[str]: ...
    @property
    def involvement(self) -> Involvement: ...
    @property
    def agents(self) -> Sequence[str]: ...
    @property
    def method(self) -> str: ...
    @property
    def repository(self) -> str: ...


PROJECT_NAME_LIMIT = 80
"""The longest project name, in characters."""
FIELDS = ("name", "description", "features", "repository", "involvement", "agents", "method")
"""The parts of a brief a problem can concern."""


def fold_name(name: str) -> str:
    """A project name with its white space folded, as it is stored and compared."""
    return " ".join(name.split())


def name_problems(name: str, *, taken: bool) -> list[FieldProblem]:
    """A name, at most PROJECT_NAME_LIMIT characters, that no other project has (`taken` says if one does)."""
    folded = fold_name(name)
    if not folded:
        return [FieldProblem("name", "a project needs a name")]
    if len(folded) > PROJECT_NAME_LIMIT:
        return [FieldProblem("name", f"a project name is at most {PROJECT_NAME_LIMIT} characters")]
    if taken:
        return [FieldProblem("name", f"a project named {folded!r} already exists")]
    return []


def agent_problems(agents: Sequence[str], agent_names: Collection[str]) -> list[FieldProblem]:
    """At least one agent, each a known one, named once."""
    if not agents:
        return [FieldProblem("agents", "choose at least one agent")]
    unknown = [name for name in agents if name not in agent_names]
    if unknown:
        return [FieldProblem("agents", f"there is no agent named {unknown[0]!r}")]
    repeated = [name for position, name in enumerate(agents) if name in agents[:position]]
    if repeated:
        return [FieldProblem("agents", f"agent {repeated[0]!r} is given twice")]
    return []


def brief_problems(brief: Brief, *, agent_names: Collection[str], name_taken: bool) -> list[FieldProblem]:
    """Every problem with a new project's brief, in the order of FIELDS; none when it can be planned."""
    problems = name_problems(brief.name, taken=name_taken)
    if any(not feature.strip() for feature in brief.features):
        problems.append(FieldProblem("features", "a feature cannot be empty"))
    problems += repository_problems(brief.repository)
    if brief.involvement not in tuple(Involvement):
        problems.append(FieldProblem("involvement", "involvement must be 1, 2 or 3"))
    return [*problems, *agent_problems(brief.agents, agent_names), *method_problems(brief.method)]


def repository_problems(folder: str) -> list[FieldProblem]:
    """The repository's folder, when one is given, must be an existing folder.

    Whether it is a git repository (or should become one) is asked when the project is linked.
    """
    if not folder.strip():
        return []
    path = Path(folder.strip()).expanduser()
    if not path.exists():
        return [FieldProblem("repository", f"there is no folder at {path}")]
    if not path.is_dir():
        return [FieldProblem("repository", f"{path} is not a folder")]
    return []

"""The one check of a new decision: its question, options, method, rules, rounds and voters.

`Engine.open_decision`, `orkestra vote` and the New question dialog all ask
this module, so a rule and its wording live here once. Each problem carries
the field it concerns (one of FIELDS), so a form shows it under that field
without guessing from the wording, and a command prints the first one as its
one line.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from orkestra_tui.config import QUORUM_MAJORITY, EngineSettings, setting_bounds
from orkestra_tui.engine.errors import FieldProblem
from orkestra_tui.engine.models import HUMAN_VOTER
from orkestra_tui.engine.voting.consensus.wording import describe_value
from orkestra_tui.engine.voting.decisions import MAX_OPTIONS
from orkestra_tui.engine.voting.methods import METHODS

FIELDS = ("question", "options", "method", "rules", "rounds", "voters")
"""The parts of a new decision a problem can concern."""
SHARE_RULES = ("threshold", "quorum", "human_weight")
"""The rules whose value is a number (human_weight from 0 to 100, the others from 0 to 1)."""


def unknown_method(method: str) -> str:
    """The line for a method that is not one of METHODS."""
    return f"unknown method {method!r}; choose one of {', '.join(METHODS)}"


def fold_options(options: Sequence[str]) -> list[str]:
    """The options with their white space folded, as they are stored and compared."""
    return [" ".join(option.split()) for option in options]


def option_problems(question: str, options: Sequence[str]) -> list[FieldProblem]:
    """The question and its options: a question, two to MAX_OPTIONS non-empty options, no two alike."""
    problems = []
    if not question.strip():
        problems.append(FieldProblem("question", "a decision needs a question"))
    folded = fold_options(options)
    if len(folded) < 2 or not all(folded):
        problems.append(FieldProblem("options", "a decision needs at least two non-empty options"))
    elif len(folded) > MAX_OPTIONS:
        problems.append(
            FieldProblem("options", f"a decision takes at most {MAX_OPTIONS} options, not {len(folded)}")
        )
    elif len(set(folded)) != len(folded):
        problems.append(FieldProblem("options", "two options are the same"))
    return problems


def method_problems(method: str) -> list[FieldProblem]:
    """The method is one of METHODS."""
    return [] if method in METHODS else [FieldProblem("method", unknown_method(method))]


def rule_problems(rules: Mapping[str, Any]) -> list[FieldProblem]:
    """Each rule known and in range: threshold and quorum 0 to 1 (quorum also "majority"), and so on."""
    problems = []
    for rule, value in rules.items():
        if rule == "round_feedback":
            if not isinstance(value, bool):
                problems.append(FieldProblem("rules", "round_feedback must be true or false"))
            continue
        if rule == "quorum" and value == QUORUM_MAJORITY:
            continue
        if rule not in SHARE_RULES:
            known = "threshold, quorum, human_weight and round_feedback"
            problems.append(FieldProblem("rules", f"unknown rule {rule!r}; the rules are {known}"))
            continue
        highest = 100 if rule == "human_weight" else 1
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= highest:
            words = f'"{QUORUM_MAJORITY}" or a number' if rule == "quorum" else "a number"
            problems.append(
                FieldProblem(
                    "rules", f"{rule} must be {words} from 0 to {highest}, not {describe_value(value)}"
                )
            )
    return problems


def rounds_problems(max_rounds: int | None) -> list[FieldProblem]:
    """At least one round and at most the max_rounds setting's bound; None takes the configured number."""
    most_rounds = setting_bounds(EngineSettings, "max_rounds").high
    if max_rounds is not None and max_rounds < 1:
        return [FieldProblem("rounds", "a decision needs at least one round")]
    if max_rounds is not None and max_rounds > most_rounds:
        return [FieldProblem("rounds", f"a decision has at most {most_rounds} rounds, not {max_rounds}")]
    return []


def voter_problems(voters: Sequence[str], agent_names: Collection[str]) -> list[FieldProblem]:
    """At least one voter, each an agent (or the human)."""
    unknown = [name for name in voters if name != HUMAN_VOTER and name not in agent_names]
    if unknown:
        known = ", ".join(agent_names)
        return [FieldProblem("voters", f"there is no agent named {unknown[0]!r} (agents: {known})")]
    if not voters:
        return [FieldProblem("voters", "a decision needs at least one voter")]
    return []


def decision_problems(
    question: str,
    options: Sequence[str],
    *,
    method: str,
    rules: Mapping[str, Any],
    voters: Sequence[str],
    max_rounds: int | None,
    agent_names: Collection[str],
) -> list[FieldProblem]:
    """Every problem with a new decision, in the order of FIELDS; none when it can be opened."""
    return [
        *option_problems(question, options),
        *method_problems(method),
        *rule_problems(rules),
        *rounds_problems(max_rounds),
        *voter_problems(voters, agent_names),
    ]

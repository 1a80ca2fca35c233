"""What a plan's task is about, and the guard on the chair's refinement of the chosen plan.

The chair (a real model or a simulated one) may adopt tasks from the other
proposals. It must not add a copy of a task the plan already has under another
phase's name ("Build: sharing" beside "Foundations: sharing"), nor a task in a
later phase with no dependency, which would start at once beside the first
phase. `guard_refinement` drops the first and anchors the second, and says so
in lines for the changes list the human reviews.

A task's substance is its title's subject (lower case, spacing and punctuation
ignored, a leading "<phase name>:" taken off when that name is a phase of any
plan in play), or its instructions, compared the same way: two tasks with the
same subject, or with the same instructions word for word, are the same task.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_WORDS = re.compile(r"[^\W_]+")


def words(text: str) -> str:
    """Text reduced to its words, lower case, single spaces: what two near-identical texts share."""
    return " ".join(_WORDS.findall(text.casefold()))


def phase_names(*plans: Mapping[str, Any] | None) -> frozenset[str]:
    """The phase names of the plans, reduced to their words."""
    return frozenset(
        words(str(phase.get("name", ""))) for plan in plans if plan for phase in plan.get("phases", ())
    )


def task_subject(title: str, phases: Iterable[str] = ()) -> str:
    """A title's subject: its words, less a leading phase name followed by a colon."""
    prefix, colon, rest = title.partition(":")
    if colon and words(prefix) in set(phases) and words(rest):
        return words(rest)
    return words(title)


def same_substance(first: Mapping[str, Any], second: Mapping[str, Any], phases: Iterable[str]) -> bool:
    """Whether two tasks are about the same thing: the same subject, or the same instructions."""
    phases = tuple(phases)
    if task_subject(str(first.get("title", "")), phases) == task_subject(
        str(second.get("title", "")), phases
    ):
        return True
    instructions = words(str(first.get("instructions", "")))
    return bool(instructions) and instructions == words(str(second.get("instructions", "")))


def guard_refinement(
    before: Mapping[str, Any], after: dict[str, Any], others: Iterable[Mapping[str, Any]] = ()
) -> tuple[dict[str, Any], list[str]]:
    """The refined plan with the chair's duplicate tasks dropped and its unanchored tasks anchored.

    Only tasks the refinement adds (keys the chosen plan lacks) are looked at.
    A dropped task's dependants depend on the task it duplicated instead. An
    added task outside the first phase with no dependency gets the tasks of
    the phase before it as dependencies, as the proposals chain their phases.
    The other proposals' phase names count as phase prefixes too (the chair
    copies titles from them). Returns the plan and one line per task dropped
    or anchored.
    """
    phases = phase_names(before, after, *others)
    original = {task["key"] for phase in before["phases"] for task in phase["tasks"]}
    notes: list[str] = []
    kept: list[dict[str, Any]] = [
        task for phase in after["phases"] for task in phase["tasks"] if task["key"] in original
    ]
    replaced: dict[str, str] = {}
    for phase in after["phases"]:
        tasks = []
        for task in phase["tasks"]:
            if task["key"] not in original:
                twin = next((other for other in kept if same_substance(task, other, phases)), None)
                if twin is not None:
                    replaced[task["key"]] = twin["key"]
                    notes.append(f"dropped: {task['title']} (the plan already has it: {twin['title']})")
                    continue
                kept.append(task)
            tasks.append(task)
        phase["tasks"] = tasks
    after["phases"] = [phase for phase in after["phases"] if phase["tasks"]]
    for phase in after["phases"]:
        for task in phase["tasks"]:
            if replaced.keys() & set(task.get("depends_on", [])):
                depends = [replaced.get(key, key) for key in task["depends_on"]]
                depends = [key for key in depends if key != task["key"]]
                task["depends_on"] = [key for n, key in enumerate(depends) if key not in depends[:n]]
    for index, phase in enumerate(after["phases"][1:], start=1):
        earlier = after["phases"][index - 1]
        for task in phase["tasks"]:
            if task["key"] not in original and not task.get("depends_on"):
                task["depends_on"] = [item["key"] for item in earlier["tasks"]]
                notes.append(f"anchored: {task['title']} (now after the phase {earlier['name']})")
    return after, notes

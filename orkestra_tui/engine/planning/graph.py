"""Dependency graphs of tasks: cycle detection that names the cycle."""

from __future__ import annotations

from collections.abc import Mapping

from orkestra_tui.engine.errors import EngineError


def find_cycle(dependencies: Mapping[str, tuple[str, ...]]) -> list[str] | None:
    """A cycle as keys from a task back to itself, or None; iterative, so deep graphs are fine."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in dependencies:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            key, index = stack.pop()
            if index == 0:
                state[key] = 1
                path.append(key)
            children = dependencies.get(key, ())
            if index < len(children):
                stack.append((key, index + 1))
                child = children[index]
                if state.get(child) == 1:
                    return [*path[path.index(child) :], child]
                if not state.get(child):
                    stack.append((child, 0))
            else:
                state[key] = 2
                path.pop()
    return None


def check_acyclic(dependencies: Mapping[str, tuple[str, ...]]) -> None:
    """Refuse a dependency cycle, naming it."""
    cycle = find_cycle(dependencies)
    if cycle is not None:
        raise EngineError(f"tasks depend on each other in a cycle: {' -> '.join(cycle)}")

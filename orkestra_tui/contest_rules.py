"""Contest rules: which tasks run as a contest of several agents, from config.toml or `.orkestra.toml`.

    contest = { priority = "critical", agents = 3 }          # one rule
    contest = [                                              # or a list, the first match wins
        { category = "code", priority = "high", agents = 2 },
        { category = "research", agents = 3 },
    ]

A rule matches a task whose category and priority are those it names (a key left out
matches any). Checked like the rest of the file: each problem is one line.
"""

from __future__ import annotations

from typing import Any

from orkestra_tui.records import record

PRIORITY_NUMBERS = {"critical": 0, "high": 1, "normal": 2, "low": 3}
"""A task's priority by name, as the engine numbers it (lower runs first)."""
RULE_KEYS = ("agents", "category", "priority")
MAX_CONTEST_AGENTS = 26
"""One letter each: Entry A to Entry Z."""


@record
class ContestRule:
    """Tasks of CATEGORY and PRIORITY (None: any) run as a contest of AGENTS agents."""

    agents: int
    category: str | None = None
    priority: str | None = None

    def matches(self, category: str, priority: int) -> bool:
        if self.category is not None and self.category != category:
            return False
        return self.priority is None or PRIORITY_NUMBERS[self.priority] == int(priority)


def read_contest_rules(value: Any) -> tuple[tuple[ContestRule, ...], list[str]]:
    """The rules a `contest` value gives, and one line per problem (no rules when there is one)."""
    tables = value if isinstance(value, list) else [value]
    problems: list[str] = []
    rules: list[ContestRule] = []
    for number, table in enumerate(tables, start=1):
        where = "contest" if not isinstance(value, list) else f"contest item {number}"
        if not isinstance(table, dict):
            problems.append(f'{where} must be a table such as {{ priority = "critical", agents = 3 }}')
            continue
        unknown = [key for key in table if key not in RULE_KEYS]
        if unknown:
            problems.append(f"{where} has an unknown key {unknown[0]!r}; use {', '.join(RULE_KEYS)}")
            continue
        agents = table.get("agents")
        if agents is None:
            problems.append(f"{where} needs an agents key: how many agents run the task")
            continue
        if isinstance(agents, bool) or not isinstance(agents, int) or not 2 <= agents <= MAX_CONTEST_AGENTS:
            problems.append(
                f"agents in {where} must be a whole number from 2 to {MAX_CONTEST_AGENTS}, not {agents!r}"
            )
            continue
        category = table.get("category")
        if category is not None and (not isinstance(category, str) or not category.strip()):
            problems.append(f"category in {where} must be a category name in quotes, not {category!r}")
            continue
        priority = table.get("priority")
        if priority is not None and priority not in PRIORITY_NUMBERS:
            problems.append(
                f"priority in {where} must be one of {', '.join(PRIORITY_NUMBERS)}, not {priority!r}"
            )
            continue
        rules.append(ContestRule(agents, category, priority))
    return (tuple(rules) if not problems else ()), problems


def rule_for(rules: tuple[ContestRule, ...], category: str, priority: int) -> ContestRule | None:
    """The first rule that matches a task of CATEGORY and PRIORITY, if any."""
    return next((rule for rule in rules if rule.matches(category, priority)), None)


def rules_document(rules: tuple[ContestRule, ...]) -> list[dict[str, Any]]:
    """The rules as config.toml writes them back."""
    return [
        {"agents": rule.agents}
        | ({"category": rule.category} if rule.category else {})
        | ({"priority": rule.priority} if rule.priority else {})
        for rule in rules
    ]

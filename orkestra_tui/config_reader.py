"""Validating config.toml: types, unknown keys with the nearest valid one, and the line of each problem.

`orkestra_tui.config.parse_settings` uses this after tomllib has parsed the
text; every problem becomes one `ConfigError` line naming the file and, where
it can be found, the line.
"""

from __future__ import annotations

import math
import re
import types
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from orkestra_tui.consensus_methods import METHODS
from orkestra_tui.contest_rules import read_contest_rules
from orkestra_tui.settings import (
    PROVIDERS,
    QUORUM_MAJORITY,
    ROUTING_STRATEGIES,
    AgentSettings,
    Bounds,
    ConfigError,
    EngineSettings,
    Settings,
    SimulationSettings,
    TelemetrySettings,
    UISettings,
)

_TYPE_HINTS: dict[type[Any], dict[str, Any]] = {}


def _type_hints(kind: type[Any]) -> dict[str, Any]:
    """The field types of a settings class, evaluated once (not once per agent of the file)."""
    hints = _TYPE_HINTS.get(kind)
    if hints is None:
        hints = _TYPE_HINTS[kind] = typing.get_type_hints(kind)
    return hints


class SettingsReader:
    """Turns a parsed TOML document into Settings, with line-accurate errors."""

    def __init__(self, text: str, path: Path) -> None:
        self.path = path
        self.lines = text.splitlines()

    def fail(
        self, problem: str, section: str, index: int | None = None, key: str | None = None
    ) -> typing.NoReturn:
        raise ConfigError(self.path, problem, self.locate(section, index, key))

    def read_settings(self, document: dict[str, Any]) -> Settings:
        sections: dict[str, Any] = {}
        for key, value in document.items():
            if key in ("engine", "simulation", "ui", "telemetry"):
                if not isinstance(value, dict):
                    self.fail(f"[{key}] must be a table", "", None, key)
                section_type = {
                    "engine": EngineSettings,
                    "simulation": SimulationSettings,
                    "ui": UISettings,
                    "telemetry": TelemetrySettings,
                }[key]
                sections[key] = self.read_dataclass(section_type, value, key, None)
            elif key == "agents":
                if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                    self.fail("agents must be an array of tables, written [[agents]]", "", None, key)
                sections[key] = tuple(
                    self.read_dataclass(AgentSettings, item, "agents", index)
                    for index, item in enumerate(value)
                )
            elif key == "contest":
                rules, problems = read_contest_rules(value)
                if problems:
                    self.fail(problems[0], "", None, key)
                sections[key] = rules
            else:
                self.fail(
                    self.unknown_key(
                        key, ("engine", "simulation", "ui", "telemetry", "agents", "contest"), "the top level"
                    ),
                    "",
                    None,
                    key,
                )
        return Settings(**sections)

    def read_dataclass(self, kind: type[Any], table: dict[str, Any], section: str, index: int | None) -> Any:
        hints = _type_hints(kind)
        known = {item.name: item for item in fields(kind)}
        label = self.section_label(section, index)
        values: dict[str, Any] = {}
        for key, value in table.items():
            if key not in known:
                self.fail(self.unknown_key(key, tuple(known), label), section, index, key)
            bounds = known[key].metadata.get("bounds")
            values[key] = self.check_type(value, hints[key], key, label, (section, index, key), bounds=bounds)
        for name, item in known.items():
            if name not in values and item.default is MISSING and item.default_factory is MISSING:
                self.fail(f"{label} needs a {name} key", section, index, None)
        return kind(**values)

    def check_type(
        self,
        value: Any,
        expected: Any,
        key: str,
        label: str,
        where: tuple[str, int | None, str],
        *,
        bounds: Bounds | None = None,
    ) -> Any:
        """`value` as `expected` (within `bounds` if given), or one line naming `key` in `label`;
        `where` locates it in the file."""
        origin = typing.get_origin(expected)
        name = f"{key} in {label}"
        if expected is bool:
            if isinstance(value, bool):
                return value
            self.fail(f"{name} must be true or false, not {_show(value)}", *where)
        if expected is int:
            if not isinstance(value, int) or isinstance(value, bool):
                self.fail(f"{name} must be a whole number{_within(bounds)}, not {_show(value)}", *where)
            self.check_bounds(value, bounds, name, where)
            return value
        if expected is float:
            # An int of any size is finite (math.isfinite would overflow on a huge one).
            finite = isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))
            if isinstance(value, bool) or not finite:
                self.fail(f"{name} must be a number{_within(bounds)}, not {_show(value)}", *where)
            self.check_bounds(value, bounds, name, where)
            return float(value)
        if expected is str:
            if isinstance(value, str):
                return value
            self.fail(f"{name} must be a string, not {_show(value)}", *where)
        if origin is dict:
            if not isinstance(value, dict):
                self.fail(f"{name} must be a table of names to numbers", *where)
            # Each entry is found by its own key (its line in a [agents.specialties] table).
            return {
                str(entry): self.check_type(
                    weight, float, f"{key}.{entry}", label, (where[0], where[1], str(entry)), bounds=bounds
                )
                for entry, weight in value.items()
            }
        if origin is list:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                self.fail(f"{name} must be a list of strings", *where)
            return list(value)
        if expected == float | str:  # a share, or a word that stands for one (quorum = "majority")
            if isinstance(value, str):
                return value  # check_semantics checks the word
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.fail(
                    f"{name} must be {_word_or(key)}a number{_within(bounds)}, not {_show(value)}", *where
                )
            return self.check_type(value, float, key, label, where, bounds=bounds)
        if isinstance(expected, types.UnionType):  # pragma: no cover - no other such fields
            raise TypeError(f"unsupported union in settings: {expected}")
        raise TypeError(f"unsupported settings type: {expected}")  # pragma: no cover

    def check_bounds(
        self, value: float, bounds: Bounds | None, name: str, where: tuple[str, int | None, str]
    ) -> None:
        if bounds is not None and value not in bounds:
            self.fail(f"{name} must be {bounds.describe()}, not {_show(value)}", *where)

    def check_semantics(self, settings: Settings) -> None:
        engine = settings.engine
        if engine.default_method not in METHODS:
            self.fail(
                f"default_method {engine.default_method!r} is not a method; "
                f"choose one of {', '.join(METHODS)}",
                "engine",
                None,
                "default_method",
            )
        if engine.routing not in ROUTING_STRATEGIES:
            self.fail(
                f"routing {engine.routing!r} is not one of {', '.join(ROUTING_STRATEGIES)}",
                "engine",
                None,
                "routing",
            )
        if isinstance(engine.quorum, str) and engine.quorum != QUORUM_MAJORITY:
            self.fail(
                f"quorum in [engine] must be {_word_or('quorum')}a number from 0 to 1, not {engine.quorum!r}",
                "engine",
                None,
                "quorum",
            )
        seen: set[str] = set()
        for index, agent in enumerate(settings.agents):
            self.check_agent(agent, index, seen)

    def check_agent(self, agent: AgentSettings, index: int, seen: set[str]) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}", agent.name):
            self.fail(
                f"agent name {agent.name!r} must be 1-32 letters, digits, '-', '_' or '.'",
                "agents",
                index,
                "name",
            )
        if agent.name in seen:
            self.fail(f"two agents are named {agent.name!r}", "agents", index, "name")
        seen.add(agent.name)
        if agent.provider not in PROVIDERS:
            self.fail(
                self.unknown_value("provider", agent.provider, PROVIDERS),
                "agents",
                index,
                "provider",
            )
        if agent.provider == "command" and not agent.command:
            self.fail(
                f"agent {agent.name!r} uses provider command but sets no command",
                "agents",
                index,
                "provider",
            )
        if agent.api_key_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", agent.api_key_env):
            self.fail("api_key_env must name an environment variable", "agents", index, "api_key_env")

    @staticmethod
    def unknown_key(key: str, known: tuple[str, ...], where: str) -> str:
        import difflib

        problem = f"unknown key {key!r} in {where}"
        nearest = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if nearest:
            return f"{problem}; did you mean {nearest[0]!r}?"
        return f"{problem}; valid keys: {', '.join(known)}"

    @staticmethod
    def unknown_value(key: str, value: str, known: tuple[str, ...]) -> str:
        import difflib

        problem = f"{key} {value!r} is not one of {', '.join(known)}"
        nearest = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
        return f"{problem}; did you mean {nearest[0]!r}?" if nearest else problem

    @staticmethod
    def section_label(section: str, index: int | None) -> str:
        if not section:
            return "the top level"
        if index is None:
            return f"[{section}]"
        return f"[[{section}]] #{index + 1}"

    def locate(self, section: str, index: int | None, key: str | None) -> int | None:
        """The 1-based line of `key` in `section` (the index-th array table), if it can be found."""
        header_re = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\" -]+?)\s*\]\]?\s*(#.*)?$")
        key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=") if key else None
        current: str = ""
        array_counts: dict[str, int] = {}
        current_index: int | None = None
        header_line: int | None = None
        for number, line in enumerate(self.lines, start=1):
            header = header_re.match(line)
            if header:
                name = header.group(2).replace('"', "").replace(" ", "")
                if header.group(1) == "[[":
                    current_index = array_counts.get(name, 0)
                    array_counts[name] = current_index + 1
                    current = name
                elif (
                    "." in name and name.split(".")[0] == current.split(".")[0] and current_index is not None
                ):
                    current = name
                else:
                    current, current_index = name, None
                if current == section and current_index == index:
                    header_line = number
                continue
            in_section = current.split(".")[0] == section and (index is None or current_index == index)
            if key_re is not None and in_section and key_re.match(line):
                return number
            if key_re is not None and section == "" and current == "" and key_re.match(line):
                return number
        if key is not None and section == "":
            for number, line in enumerate(self.lines, start=1):
                if re.match(rf"^\s*\[\[?\s*{re.escape(key)}\s*[\].]", line):
                    return number
        return header_line


def _word_or(key: str) -> str:
    """The word a setting takes besides a number, as an error message offers it."""
    return f'"{QUORUM_MAJORITY}" or ' if key == "quorum" else ""


def _within(bounds: Bounds | None) -> str:
    return f" {bounds.describe()}" if bounds is not None else ""


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)

"""The typed settings that config.toml holds, and the error that names a bad one.

Settings are frozen dataclasses whose fields carry their own documentation and,
for a number, its bounds: `orkestra_tui.config_reader` checks a file against
them and `orkestra_tui.config` writes them into the default file as comments.
They sit below both, so that the reader and the loader import them and not
each other; `orkestra_tui.config` hands every name on, and that is where the
rest of the package imports them from.
"""

from __future__ import annotations

from dataclasses import field, fields, replace
from pathlib import Path
from typing import Any

from orkestra_tui.contest_rules import ContestRule
from orkestra_tui.errors import OrkestraError
from orkestra_tui.records import record

PROVIDERS = ("anthropic", "openai", "gemini", "xai", "ollama", "copilot", "command", "simulated")
ROUTING_STRATEGIES = ("balanced", "cheapest", "best")
QUORUM_MAJORITY = "majority"
"""The quorum setting's word for more than half of the voters (the tally's own, repeated here)."""


class ConfigError(OrkestraError):
    """config.toml cannot be used as it is."""

    def __init__(self, path: Path, problem: str, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


@record
class Bounds:
    """The values a number setting accepts: from `low` to `high`, both included unless `low_excluded`.

    Each number field of the settings carries its bounds beside its documentation:
    config.toml is checked against them, its comments show them, and the
    command-line options that stand for a setting (`--rounds`, `--max-concurrent`)
    use the same ones.
    """

    low: int | float
    high: int | float
    low_excluded: bool = False

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        # Exact for any int, however large; NaN is in no range.
        above_low = value > self.low if self.low_excluded else value >= self.low
        return above_low and value <= self.high

    def describe(self) -> str:
        """The range as an error message says it: `from 1 to 100`, `more than 0 and at most 3600`."""
        if self.low_excluded:
            return f"more than {_number(self.low)} and at most {_number(self.high)}"
        return f"from {_number(self.low)} to {_number(self.high)}"

    def short(self) -> str:
        """The range as the config file's comments show it: `1 to 100`, `more than 0, at most 3600`."""
        if self.low_excluded:
            return f"more than {_number(self.low)}, at most {_number(self.high)}"
        return f"{_number(self.low)} to {_number(self.high)}"


def _number(value: int | float) -> str:
    """A bound as it is typed in TOML: `0`, `86400`, `0.5`."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def _doc(text: str, *, bounds: Bounds | None = None, **kwargs: Any) -> Any:
    """A dataclass field with its documentation (and, for a number, its bounds) in the metadata."""
    return field(metadata={"doc": text, "bounds": bounds}, **kwargs)


def setting_bounds(kind: type[Any], name: str) -> Bounds:
    """The bounds of the number setting `name` of the settings class `kind`."""
    bounds = next(item.metadata.get("bounds") for item in fields(kind) if item.name == name)
    if not isinstance(bounds, Bounds):  # pragma: no cover - a programming error
        raise TypeError(f"{kind.__name__}.{name} has no bounds")
    return bounds


_MINUTE = 60
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR


@record
class EngineSettings:
    """How the committee works."""

    default_method: str = _doc(
        "Consensus method for new decisions: unanimous, supermajority, majority, plurality, "
        "ranked_choice, weighted, borda or condorcet.",
        default="majority",
    )
    max_rounds: int = _doc(
        "Most voting rounds before a deadlock is declared.", default=5, bounds=Bounds(1, 100)
    )
    max_concurrent_tasks: int = _doc(
        "Most tasks running at once, over all agents.", default=5, bounds=Bounds(1, 1000)
    )
    max_attempts: int = _doc(
        "Most attempts at one task or call before it fails.", default=3, bounds=Bounds(1, 100)
    )
    routing: str = _doc("How tasks pick an agent: balanced, cheapest or best.", default="balanced")
    agent_timeout_s: float = _doc(
        "Seconds an agent may take to answer one request.",
        default=120.0,
        bounds=Bounds(0, _DAY, low_excluded=True),
    )
    local_agent_timeout_s: float = _doc(
        "Seconds a local model (ollama, or an OpenAI-compatible server at a local address) may take"
        " to answer one request: a model on this machine's CPU is slow.",
        default=600.0,
        bounds=Bounds(0, _DAY, low_excluded=True),
    )
    retry_after_cap_s: float = _doc(
        "Longest wait honoured when a provider says to retry later, in seconds.",
        default=30.0,
        bounds=Bounds(0, _HOUR, low_excluded=True),
    )
    circuit_failures: int = _doc(
        "Consecutive failed calls after which an agent's circuit opens (it is left out).",
        default=3,
        bounds=Bounds(1, 1000),
    )
    circuit_cooldown_s: float = _doc(
        "Seconds an open circuit waits before one probe call is let through.",
        default=30.0,
        bounds=Bounds(0, _DAY, low_excluded=True),
    )
    reviewers: int = _doc(
        "Agents of other providers that review each task's result (0 for none).",
        default=1,
        bounds=Bounds(0, 20),
    )
    lease_s: float = _doc(
        "Seconds a task stays claimed by a process without news from it; a crashed run's tasks"
        " are taken up again after this.",
        default=30.0,
        bounds=Bounds(0, _DAY, low_excluded=True),
    )
    snapshot_interval_minutes: int = _doc(
        "Minutes between automatic snapshots of the database while the app runs (0 for none);"
        " they go to the snapshots folder of the data directory.",
        default=10,
        bounds=Bounds(0, 7 * _DAY // _MINUTE),
    )
    snapshot_keep: int = _doc(
        "Most snapshots kept; the oldest are removed after each new one.",
        default=24,
        bounds=Bounds(1, 10_000),
    )
    min_free_mb: int = _doc(
        "Least free space (MB) on the data disk for a task to start; with less, the work stops"
        " until there is room (0: no check).",
        default=50,
        bounds=Bounds(0, 1_000_000_000),
    )
    quorum: float | str = _doc(
        "Least share of the voters asked in a round whose ballots must count (not refused, failed"
        ' or invalid) for the round to decide; "majority" (the default) is more than half of them,'
        " 0 is no quorum. A round short of it goes on like a round without a winner.",
        default=QUORUM_MAJORITY,
        bounds=Bounds(0, 1),
    )


@record
class SimulationSettings:
    """Simulated agents stand in for agents without a key, and for all of them with --demo."""

    seed: int = _doc(
        "Seed for simulated agents; the same seed gives the same answers.",
        default=7,
        bounds=Bounds(0, 2**32 - 1),
    )
    latency_ms: int = _doc(
        "Typical time a simulated agent takes to answer, in milliseconds.",
        default=600,
        bounds=Bounds(0, 10 * _MINUTE * 1000),
    )
    failure_rate: float = _doc(
        "Share of simulated calls that fail with a retryable error.", default=0.0, bounds=Bounds(0, 1)
    )


@record
class UISettings:
    """The full-screen app."""

    theme: str = _doc("Textual theme name.", default="textual-dark")


@record
class TelemetrySettings:
    """Traces and metrics, exported when OTEL_EXPORTER_OTLP_ENDPOINT is set (the otel extra)."""

    capture_content: bool = _doc(
        "Put prompts and answers into the spans (keys redacted, clipped); off: never.", default=False
    )


@record
class AgentSettings:
    """One member of the committee."""

    name: str = _doc("Unique name, shown everywhere the agent appears.")
    provider: str = _doc("anthropic, openai, gemini, xai, ollama, copilot, command or simulated.")
    model: str = _doc("Model name at the provider.", default="")
    enabled: bool = _doc("Whether the agent takes part.", default=True)
    base_url: str = _doc("API endpoint; empty for the provider's default.", default="")
    api_key_env: str = _doc(
        "Environment variable holding the key; empty for the vendor's usual one.", default=""
    )
    weight: float = _doc("Vote weight for the weighted method.", default=1.0, bounds=Bounds(0, 100))
    concurrency: int = _doc(
        "Most tasks this agent works on at once (0: 1 for a local model, whose server answers one"
        " request at a time, and 2 otherwise).",
        default=0,
        bounds=Bounds(0, 1000),
    )
    max_tokens: int = _doc(
        "Most tokens one answer may take (0: no limit of the agent's own). A request asks for its"
        " own limit (plan 4000, task 2048, review 1000, ballot 800) up to this; an answer cut off"
        " at its limit is asked again once with twice the room, up to this.",
        default=0,
        bounds=Bounds(0, 1_000_000),
    )
    timeout_s: float = _doc(
        "Seconds this agent may take to answer one request (0: engine.agent_timeout_s, or"
        " engine.local_agent_timeout_s for a local model).",
        default=0.0,
        bounds=Bounds(0, _DAY),
    )
    price_input_per_mtok: float = _doc(
        "Price per million input tokens, in dollars.", default=0.0, bounds=Bounds(0, 10_000)
    )
    price_output_per_mtok: float = _doc(
        "Price per million output tokens, in dollars.", default=0.0, bounds=Bounds(0, 10_000)
    )
    specialties: dict[str, float] = field(
        default_factory=dict,
        metadata={
            "doc": "Task categories this agent is good at, each with a weight.",
            "bounds": Bounds(0, 1),
        },
    )
    command: list[str] = field(
        default_factory=list,
        metadata={
            "doc": "For provider = command: the program and its arguments; it reads the prompt on stdin."
        },
    )


def default_agents() -> tuple[AgentSettings, ...]:
    """The roster written into a new config.toml.

    Each vendor's current generally available model and its list price per
    million tokens, as of 2026-12-03 (README's "Agents and keys" names the pages).
    Gemini 3.8 Flash's price is Google's rate until 2026-12-31; it doubles after.
    """
    return (
        AgentSettings(
            name="claude",
            provider="anthropic",
            model="claude-sonnet-5-5",
            price_input_per_mtok=2.0,
            price_output_per_mtok=10.0,
            specialties={"architecture": 0.9, "review": 0.9, "code": 0.85, "docs": 0.8},
        ),
        AgentSettings(
            name="chatgpt",
            provider="openai",
            model="gpt-6.2-sol",
            price_input_per_mtok=2.0,
            price_output_per_mtok=10.0,
            specialties={"code": 0.85, "docs": 0.85, "tests": 0.75, "research": 0.7},
        ),
        AgentSettings(
            name="gemini",
            provider="gemini",
            model="gemini-3.8-flash",
            price_input_per_mtok=0.75,
            price_output_per_mtok=3.75,
            specialties={"research": 0.9, "data": 0.85, "architecture": 0.7, "tests": 0.7},
        ),
        AgentSettings(
            name="copilot",
            provider="copilot",
            model="gpt-6.1-sol",
            specialties={"code": 0.9, "tests": 0.85, "review": 0.7},
        ),
        AgentSettings(
            name="grok",
            provider="xai",
            model="grok-4.7",
            price_input_per_mtok=2.0,
            price_output_per_mtok=6.0,
            specialties={"research": 0.8, "review": 0.75, "code": 0.6},
        ),
    )


@record
class Settings:
    """Everything config.toml holds."""

    engine: EngineSettings = field(default_factory=EngineSettings)
    simulation: SimulationSettings = field(default_factory=SimulationSettings)
    ui: UISettings = field(default_factory=UISettings)
    telemetry: TelemetrySettings = field(default_factory=TelemetrySettings)
    agents: tuple[AgentSettings, ...] = field(default_factory=default_agents)
    contest: tuple[ContestRule, ...] = ()
    """Which tasks run as a contest of several agents (`contest = { priority = "critical", agents = 3 }`)."""

    def agent(self, name: str) -> AgentSettings | None:
        return next((agent for agent in self.agents if agent.name == name), None)

    def with_agents(self, agents: tuple[AgentSettings, ...]) -> Settings:
        return replace(self, agents=agents)

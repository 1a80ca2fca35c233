"""The Health screen: every agent's status, latency, success, tokens, cost and circuit.

`t` tests the selected agent with a tiny live call, `T` tests them all at once,
`e` enables or disables the selected one. Tests run in workers and the table
follows the calls they record. A test also asks the agent's endpoint for its
models list, and warns when the configured model is not among them. The
detail under the table ends with the agent's last refused answer, if it has
one (what it said, cut to a line); Enter shows its latest ones in full.
"""

from __future__ import annotations

import asyncio

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from orkestra_tui.engine.agents.health import sparkline
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.events import EngineEvent
from orkestra_tui.engine.models import AgentInfo
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.screens.refused_answers import RefusedAnswersScreen
from orkestra_tui.tui.text import clean, plain
from orkestra_tui.wording import plural

COLUMNS = (
    "agent",
    "status",
    "provider",
    "model",
    "p50 ms",
    "p95 ms",
    "success",
    "calls",
    "tokens",
    "cost",
    "circuit",
    "latency",
)
TESTING = "testing…"
"""An agent's status while its test call is under way."""

NARROW_HIDDEN = ("provider", "model", "latency")
"""Left out below `WIDE_WIDTH` columns: the detail under the table names the provider and model."""
MEDIUM_HIDDEN = ("provider",)
"""Left out below `WIDEST_WIDTH` columns, so that the latency's sparkline is not clipped."""
WIDE_WIDTH = 100
WIDEST_WIDTH = 130
REFUSED_SHOWN = 5
"""How many of an agent's latest refused answers Enter shows."""


def columns_for(width: int) -> tuple[str, ...]:
    """The columns that fit a screen `width` columns wide, the most telling kept."""
    hidden = () if width >= WIDEST_WIDTH else MEDIUM_HIDDEN if width >= WIDE_WIDTH else NARROW_HIDDEN
    return tuple(column for column in COLUMNS if column not in hidden)


STATUS_STYLES = {
    "healthy": "green",
    "degraded": "yellow",
    "down": "bold red",
    "bad key": "bold red",
    "simulated": "yellow",
    "disabled": "dim",
}


class HealthScreen(EngineScreen):
    """One row per agent, from the recorded calls and the circuit breakers."""

    BINDINGS = [
        Binding("t", "test_selected", "Test agent"),
        Binding("T", "test_all", "Test all"),
        Binding("e", "toggle_enabled", "Enable/disable"),
    ]

    MODE = "health"
    TITLE = "Health"
    WATCHES = ("call", "agent")

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.testing: set[str] = set()
        """Agents whose test call is under way: their status reads "testing…" until it ends."""
        self._shown_columns: tuple[str, ...] = ()
        self.model_warnings: dict[str, str] = {}
        """What the last test found wrong with each agent's model (not offered, list unreadable)."""

    def compose_body(self) -> ComposeResult:
        table: DataTable[object] = DataTable(id="agents", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(id="agent-detail")

    def _selected(self) -> AgentInfo | None:
        table = self.query_one("#agents", DataTable)
        agents = self.engine.agents()
        return agents[table.cursor_row] if 0 <= table.cursor_row < len(agents) else None

    @property
    def fitting_columns(self) -> tuple[str, ...]:
        """The table's columns at the screen's width."""
        return columns_for(self.size.width)

    def on_resize(self) -> None:
        if self.body_ready and self.fitting_columns != self._shown_columns:
            self.reload()

    def reload(self) -> None:
        table = self.query_one("#agents", DataTable)
        row = table.cursor_row
        columns = self.fitting_columns
        table.clear(columns=columns != self._shown_columns)
        if columns != self._shown_columns:
            table.add_columns(*columns)
            self._shown_columns = columns
        for agent in self.engine.agents():
            health = self.engine.agent_health(agent.name)
            status = self.engine.agent_status(agent, health)
            success = health.success_rate
            cells: dict[str, object] = {
                "agent": plain(agent.name, style="bold"),
                "status": self._status_text(agent.name, status),
                "provider": agent.provider,
                "model": plain(agent.model),
                "p50 ms": "—" if health.p50_ms is None else f"{health.p50_ms:.0f}",
                "p95 ms": "—" if health.p95_ms is None else f"{health.p95_ms:.0f}",
                "success": "—" if success is None else f"{100 * success:.0f}%",
                "calls": str(health.calls),
                "tokens": f"{health.tokens:,}",
                "cost": f"${health.cost:.4f}" if 0 < health.cost < 0.01 else f"${health.cost:.2f}",
                "circuit": self.engine.agent_circuit(agent.name),
                "latency": Text(sparkline(health.recent_latencies_ms), style="cyan"),
            }
            table.add_row(*(cells[column] for column in columns), key=agent.name)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._show_detail()

    def _status_text(self, name: str, status: str) -> Text:
        if name in self.testing:
            return Text(TESTING, style="bold cyan")
        return Text(status, style=STATUS_STYLES.get(status, ""))

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#agent-detail", Static)
        agent = self._selected()
        if agent is None:
            detail.update("")
            return
        health = self.engine.agent_health(agent.name)
        title = plain(agent.name, style="bold")
        title.append(f"  {self.engine.agent_status(agent, health)}", style="bold")
        if agent.simulated:
            title.append(f" ({agent.simulated_reason})", style="yellow")
        elif agent.key_variable:
            title.append(f"  key from {agent.key_variable}", style="dim")
        specialties = ", ".join(f"{name} {weight:.2f}" for name, weight in sorted(agent.specialties.items()))
        summary = f"specialties: {specialties or 'none'} · weight {agent.weight:g}"
        if "model" not in self._shown_columns:  # the table has no room for them
            summary = f"{agent.provider} · {agent.model} · {summary}"
        facts = Text(
            f"{summary} · up to {plural(agent.concurrency, 'task')}"
            + (
                f" · errors: {', '.join(f'{kind} {count}' for kind, count in health.errors_by_class.items())}"
                if health.errors_by_class
                else ""
            )
            + (
                f" · structured answers: {modes}"
                if (modes := ", ".join(f"{mode} {count}" for mode, count in health.output_modes.items()))
                else ""
            ),
            style="dim",
        )
        errors = [plain(f"  {error}", style="red") for error in health.last_errors[-3:]]
        warning = self.model_warnings.get(agent.name, "")
        warnings = [plain(f"  {warning}", style="yellow")] if warning else []
        detail.update(Group(title, facts, *warnings, *errors, *self._refused_lines(agent.name)))

    def _refused_lines(self, agent_name: str) -> list[Text]:
        """The agent's last refused answer: what was asked and why it was refused, then its first words."""
        refused = self.engine.refused_answers(agent_name, 1)
        if not refused:
            return []
        answer = refused[-1]
        asked = f"{answer.purpose or 'request'} answer" + (f", round {answer.round}" if answer.round else "")
        reason = Text(f"  refused {asked} ", style="yellow")
        reason.append("(Enter: in full)", style="dim")
        reason.append(": ", style="yellow")
        reason.append_text(plain(" ".join(answer.problem.split()), style="yellow"))
        reason.no_wrap, reason.overflow = True, "ellipsis"
        words = plain("  │ " + (" ".join(answer.text.split()) or "(empty)"), style="dim")
        words.no_wrap, words.overflow = True, "ellipsis"
        return [reason, words]

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        agent = self._selected()
        if agent is None:
            return
        refused = self.engine.refused_answers(agent.name, REFUSED_SHOWN)
        if refused:
            self.app.push_screen(RefusedAnswersScreen(agent.name, refused))
        else:
            self.notify(f"{agent.name} has no refused answers", title="Health", markup=False)

    def watches(self, event: EngineEvent) -> bool:
        return event.is_kind(*self.WATCHES)

    # -------------------------------------------------------------- actions

    def action_test_selected(self) -> None:
        agent = self._selected()
        if agent is not None:
            self._test([agent.name])

    def action_test_all(self) -> None:
        self._test([agent.name for agent in self.engine.agents() if agent.enabled])

    def action_toggle_enabled(self) -> None:
        agent = self._selected()
        if agent is not None:
            try:
                self.engine.set_agent_enabled(agent.name, not agent.enabled)
            except OrkestraError as problem:  # a full disk: say so, and keep the screen as it was
                self.notify(clean(str(problem)), title="Health", severity="error", markup=False)

    def _test(self, names: list[str]) -> None:
        """Mark the agents' rows as testing at once, then make the calls in a worker."""
        table = self.query_one("#agents", DataTable)
        status_column = table.ordered_columns[1].key
        for name in names:
            self.testing.add(name)
            table.update_cell(name, status_column, Text(TESTING, style="bold cyan"))
        self._run_tests(names)

    @work(group="health-tests", description="testing agents", exit_on_error=False)
    async def _run_tests(self, names: list[str]) -> None:
        try:
            outcomes, checks = await asyncio.gather(
                asyncio.gather(*(self.engine.test_agent(name) for name in names)),
                asyncio.gather(*(self.engine.check_model(name) for name in names)),
            )
        finally:
            self.testing.difference_update(names)
        for check in checks:
            self.model_warnings[check.agent] = check.warning
        self.reload()
        for check in checks:
            if check.warning:
                self.notify(
                    clean(f"{check.agent}: {check.warning}"), title="Model", severity="warning", markup=False
                )
        for name, outcome in zip(names, outcomes, strict=True):
            if outcome.ok:
                self.notify(
                    f"{name} answered in {outcome.record.latency_ms:.0f} ms", title="Test", markup=False
                )
            else:
                self.notify(
                    clean(f"{name}: {outcome.record.error_class}: {outcome.record.error}"),
                    title="Test failed",
                    severity="error",
                    markup=False,
                )

"""The Health screen: every agent's status, latency, success, tokens, cost and circuit.

`t` tests the selected agent with a tiny live call, `T` tests them all at once,
`e` enables or disables the selected one. Tests run in workers and the table
follows the calls they record.
"""

from __future__ import annotations

import asyncio

from rich.console import Group
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from orkestra_tui.engine.events import EngineEvent
from orkestra_tui.engine.health import sparkline
from orkestra_tui.engine.models import AgentInfo
from orkestra_tui.errors import OrkestraError
from orkestra_tui.tui.screens.base import EngineScreen
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

    def compose_body(self) -> ComposeResult:
        table: DataTable[object] = DataTable(id="agents", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Static(id="agent-detail")

    def _selected(self) -> AgentInfo | None:
        table = self.query_one("#agents", DataTable)
        agents = self.engine.agents()
        return agents[table.cursor_row] if 0 <= table.cursor_row < len(agents) else None

    def reload(self) -> None:
        table = self.query_one("#agents", DataTable)
        row = table.cursor_row
        table.clear()
        for agent in self.engine.agents():
            health = self.engine.agent_health(agent.name)
            status = self.engine.agent_status(agent, health)
            success = health.success_rate
            table.add_row(
                plain(agent.name, style="bold"),
                Text(status, style=STATUS_STYLES.get(status, "")),
                agent.provider,
                plain(agent.model),
                "—" if health.p50_ms is None else f"{health.p50_ms:.0f}",
                "—" if health.p95_ms is None else f"{health.p95_ms:.0f}",
                "—" if success is None else f"{100 * success:.0f}%",
                str(health.calls),
                f"{health.tokens:,}",
                f"${health.cost:.4f}" if 0 < health.cost < 0.01 else f"${health.cost:.2f}",
                self.engine.breakers[agent.name].state.value,
                Text(sparkline(health.recent_latencies_ms), style="cyan"),
                key=agent.name,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._show_detail()

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        detail = self.query_one("#agent-detail", Static)
        agent = self._selected()
        if agent is None:
            detail.update("")
            return
        health = self.engine.agent_health(agent.name)
        runtime = self.engine.runtimes[agent.name]
        title = plain(agent.name, style="bold")
        title.append(f"  {self.engine.agent_status(agent, health)}", style="bold")
        if agent.simulated:
            title.append(f" ({agent.simulated_reason})", style="yellow")
        elif runtime.key_variable:
            title.append(f"  key from {runtime.key_variable}", style="dim")
        specialties = ", ".join(f"{name} {weight:.2f}" for name, weight in sorted(agent.specialties.items()))
        summary = f"specialties: {specialties or 'none'} · weight {agent.weight:g}"
        facts = Text(
            f"{summary} · up to {plural(agent.concurrency, 'task')}"
            + (
                f" · errors: {', '.join(f'{kind} {count}' for kind, count in health.errors_by_class.items())}"
                if health.errors_by_class
                else ""
            ),
            style="dim",
        )
        errors = [plain(f"  {error}", style="red") for error in health.last_errors[-3:]]
        detail.update(Group(title, facts, *errors))

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

    @work(group="health-tests", description="testing agents", exit_on_error=False)
    async def _test(self, names: list[str]) -> None:
        outcomes = await asyncio.gather(*(self.engine.test_agent(name) for name in names))
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

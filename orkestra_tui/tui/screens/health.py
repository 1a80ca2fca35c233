"""The Health screen: every agent, its mode and how its calls have gone."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from orkestra_tui.engine.health import summarise
from orkestra_tui.tui.screens.base import EngineScreen
from orkestra_tui.tui.text import plain

COLUMNS = (
    "agent",
    "mode",
    "provider",
    "model",
    "calls",
    "success",
    "p50 ms",
    "p95 ms",
    "tokens",
    "cost",
)


class HealthScreen(EngineScreen):
    """One row per agent, from the recorded calls."""

    MODE = "health"
    TITLE = "Health"
    WATCHES = ("call", "agent")

    def compose_body(self) -> ComposeResult:
        table: DataTable[object] = DataTable(id="agents", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Static(id="agent-detail")

    def reload(self) -> None:
        table = self.query_one("#agents", DataTable)
        row = table.cursor_row
        table.clear()
        for agent in self.engine.agents():
            health = summarise(agent.name, self.engine.store.calls(agent.name))
            if not agent.enabled:
                mode = Text("disabled", style="dim")
            elif agent.simulated:
                mode = Text("simulated", style="yellow")
            else:
                mode = Text("live", style="green")
            success = health.success_rate
            table.add_row(
                plain(agent.name, style="bold"),
                mode,
                agent.provider,
                plain(agent.model),
                str(health.calls),
                "—" if success is None else f"{100 * success:.0f}%",
                "—" if health.p50_ms is None else f"{health.p50_ms:.0f}",
                "—" if health.p95_ms is None else f"{health.p95_ms:.0f}",
                f"{health.tokens:,}",
                f"${health.cost:.2f}",
                key=agent.name,
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))
        self._show_detail()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        table = self.query_one("#agents", DataTable)
        detail = self.query_one("#agent-detail", Static)
        agents = self.engine.agents()
        if not agents or table.cursor_row >= len(agents):
            detail.update("")
            return
        agent = agents[table.cursor_row]
        text = plain(agent.name, style="bold")
        if agent.simulated:
            text.append(f"  simulated: {agent.simulated_reason}", style="yellow")
        specialties = ", ".join(f"{name} {weight:.2f}" for name, weight in sorted(agent.specialties.items()))
        text.append(
            f"\nspecialties: {specialties or 'none'} · weight {agent.weight:g}"
            f" · up to {agent.concurrency} tasks at once",
            style="dim",
        )
        detail.update(text)

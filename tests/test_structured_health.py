"""The Health screen counts how each agent's structured answers were asked for."""

from __future__ import annotations

from rich.console import Console, Group
from textual.widgets import Static

from orkestra_tui.engine.agents.call_log import record_call
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import CallRecord
from orkestra_tui.tui.app import OrkestraApp


def detail_text(app: OrkestraApp) -> str:
    content = app.screen.query_one("#agent-detail", Static).content
    assert isinstance(content, Group)
    console = Console(width=200, record=True, file=None, color_system=None)
    with console.capture() as captured:
        console.print(content)
    return captured.get()


async def test_the_detail_counts_the_structured_output_paths(engine: Engine) -> None:
    with engine.store.transaction() as tx:
        for mode in ("schema", "schema", "prompt", ""):
            record_call(tx, CallRecord("claude", "m", "ballot", 0.0, 10.0, 1, 1, 0.0, output_mode=mode))
    app = OrkestraApp(engine, first_mode="health")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        assert "structured answers: schema 2, prompt 1" in detail_text(app)
        await pilot.press("down")  # chatgpt: no structured answer recorded, no count shown
        await pilot.pause()
        assert "structured answers" not in detail_text(app)

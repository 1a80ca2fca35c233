"""The Health screen: test one agent or all, enable and disable, statuses, and hostile error text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from fakes import ScriptedProvider, failing
from textual.widgets import DataTable

from orkestra_tui.bench.fake_api import Reply, serving
from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.engine import Engine
from orkestra_tui.providers.base import ProviderError
from orkestra_tui.tui.app import OrkestraApp

SIZE = (140, 30)


def cell(app: OrkestraApp, agent: str, column: str) -> str:
    table = app.screen.query_one("#agents", DataTable)
    columns = [str(column.label) for column in table.columns.values()]
    return str(table.get_row(agent)[columns.index(column)])


async def test_t_tests_the_selected_agent_and_T_tests_them_all(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="health")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert [call.purpose for call in engine.store.calls("claude")] == ["ping"]
        assert cell(app, "claude", "calls") == "1"
        await pilot.press("T")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert {agent.name: len(engine.store.calls(agent.name)) for agent in engine.agents()} == {
            "claude": 2,
            "chatgpt": 1,
            "gemini": 1,
            "copilot": 1,
            "grok": 1,
        }


async def test_e_disables_and_enables_the_selected_agent(engine: Engine) -> None:
    app = OrkestraApp(engine, first_mode="health")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("down", "e")
        await pilot.pause(0.2)
        assert "chatgpt" not in [runtime.name for runtime in engine.enabled_agents()]
        assert cell(app, "chatgpt", "status") == "disabled"
        await pilot.press("e")
        await pilot.pause(0.2)
        assert cell(app, "chatgpt", "status") == "simulated"
        assert [event.kind for event in engine.audit_events(2)] == ["agent.enabled", "agent.disabled"]


async def test_a_refused_key_and_hostile_error_text(engine: Engine) -> None:
    engine.use_provider("claude", ScriptedProvider(failing("auth")))
    hostile = ProviderError("server", "[bold]boom[/] [link=https://evil.example]click[/link] \x1b[31mred")
    engine.use_provider("grok", ScriptedProvider(lambda _request, _index: hostile))
    app = OrkestraApp(engine, first_mode="health")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("T")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert cell(app, "claude", "status") == "bad key"
        await pilot.press("down", "down", "down", "down")
        await pilot.pause()
        screen_text = app.export_screenshot().replace("&#160;", " ")
        assert "[bold]boom[/] [link=https://evil.example]click[/link] \\x1b[31mred" in screen_text
        assert "\x1b" not in screen_text  # the escape is shown as text, never sent to the terminal
        toasts = [str(notification.message) for notification in app._notifications]
        assert all("\x1b" not in toast for toast in toasts)


async def test_a_key_echoed_by_the_provider_never_reaches_the_screen(
    paths: Paths, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key = "sk-ant-screen-SECRET-0123456789"
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as fake:
        fake.then(Reply(status=401, body={"error": {"message": f"invalid x-api-key: {key}"}}))
        agent = AgentSettings(name="claude", provider="anthropic", model="m", base_url=fake.url)
        engine = Engine(paths, replace(settings, agents=(agent,)), env={"ANTHROPIC_API_KEY": key})
        app = OrkestraApp(engine, first_mode="health")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await pilot.press("t")
            await app.workers.wait_for_complete()
            await pilot.pause(0.2)
            assert cell(app, "claude", "status") == "bad key"
            screen_text = app.export_screenshot().replace("&#160;", " ")
            assert "invalid x-api-key: [redacted]" in screen_text
            assert key not in screen_text
            assert all(key not in str(notification.message) for notification in app._notifications)
        engine.close()

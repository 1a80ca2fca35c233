"""The models each endpoint offers, through the real SDKs' models lists on the wire fake, and the warnings."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from orkestra_tui.bench.fake_api import Reply, WireFake, serving
from orkestra_tui.config import AgentSettings, Paths, Settings
from orkestra_tui.engine.agents.model_check import ModelCheck
from orkestra_tui.engine.engine import Engine
from orkestra_tui.tui.app import OrkestraApp

FAKE_KEY = "sk-models-SECRET-0123456789abcdef"
OFFERED = ["claude-sonnet-5-5", "claude-opus-5-5", "gpt-6.2-sol", "gemini-3.8-flash", "grok-4.7"]
KEY_VARIABLE = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "xai": "XAI_API_KEY",
    "ollama": "",
}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        server.offered_models = list(OFFERED)
        yield server


def engine_with(paths: Paths, settings: Settings, fake: WireFake, provider: str, model: str) -> Engine:
    suffix = "" if provider in ("anthropic", "gemini") else "/v1"
    agent = AgentSettings(name="agent", provider=provider, model=model, base_url=fake.url + suffix)
    variable = KEY_VARIABLE[provider]
    return Engine(paths, replace(settings, agents=(agent,)), env={variable: FAKE_KEY} if variable else {})


def check(engine: Engine) -> ModelCheck:
    async def once() -> ModelCheck:
        try:
            return await engine.check_model("agent")
        finally:
            await engine.aclose()

    return asyncio.run(once())


@pytest.mark.parametrize("provider", list(KEY_VARIABLE))
def test_every_sdk_lists_the_models_its_endpoint_offers(
    paths: Paths, settings: Settings, fake: WireFake, provider: str
) -> None:
    engine = engine_with(paths, settings, fake, provider, "grok-4.7")
    found = check(engine)
    engine.close()
    assert found.offered == tuple(OFFERED)
    assert not found.missing and found.warning == ""
    (request,) = fake.received
    assert request.path.split("?")[0].endswith("/models")


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini"])
def test_a_model_the_endpoint_does_not_offer_is_a_warning_with_the_closest_ids(
    paths: Paths, settings: Settings, fake: WireFake, provider: str
) -> None:
    engine = engine_with(paths, settings, fake, provider, "claude-sonnet-4-5")
    found = check(engine)
    engine.close()
    assert found.missing
    assert found.closest[0] == "claude-sonnet-5-5"
    assert found.warning.startswith(f"model claude-sonnet-4-5 is not among the 5 models {fake.url}")
    assert "closest: claude-sonnet-5-5" in found.warning


@pytest.mark.parametrize("provider", ["anthropic", "openai", "gemini"])
def test_a_models_list_that_fails_is_a_classified_warning_without_the_key(
    paths: Paths, settings: Settings, fake: WireFake, provider: str
) -> None:
    fake.models_reply = Reply(status=401, body={"error": {"code": 401, "message": f"bad key {FAKE_KEY}"}})
    engine = engine_with(paths, settings, fake, provider, "claude-sonnet-5-5")
    found = check(engine)
    engine.close()
    assert found.offered is None and not found.missing
    assert found.problem.startswith("auth: HTTP 401")
    assert found.warning.startswith("could not list the models")
    assert FAKE_KEY not in found.warning


def test_a_simulated_agent_is_not_asked(engine: Engine) -> None:
    found = asyncio.run(engine.check_model("claude"))
    assert found.offered is None and found.warning == ""


async def test_the_health_screen_warns_when_the_model_is_not_offered(
    paths: Paths, settings: Settings, fake: WireFake
) -> None:
    engine = engine_with(paths, settings, fake, "anthropic", "claude-sonnet-4-5")
    app = OrkestraApp(engine, first_mode="health")
    async with app.run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        screen_text = app.export_screenshot().replace("&#160;", " ")
        assert "model claude-sonnet-4-5 is not among the 5 models" in screen_text
        toasts = [str(notification.message) for notification in app._notifications]
        assert any("closest: claude-sonnet-5-5" in toast for toast in toasts)
    await engine.aclose()
    engine.close()

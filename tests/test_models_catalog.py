"""Today's default models, and what each model family is sent: the real SDKs' requests on the wire fake."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.bench.fake_api import WireFake, serving
from orkestra_tui.config import AgentSettings, Settings, default_agents
from orkestra_tui.providers.anthropic import AnthropicProvider
from orkestra_tui.providers.base import Message, ProviderRequest
from orkestra_tui.providers.gemini import GeminiProvider
from orkestra_tui.providers.models_catalog import capabilities
from orkestra_tui.providers.openai import OpenAIProvider

REQUEST = ProviderRequest(
    system="Answer in JSON.",
    messages=(Message("user", "Rank the options."),),
    max_tokens=800,
    temperature=0.3,
)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireFake]:
    monkeypatch.setenv("ANTHROPIC_CONFIG_DIR", str(tmp_path / "anthropic-config"))
    with serving() as server:
        yield server


VendorProvider = AnthropicProvider | GeminiProvider | OpenAIProvider


def sent(provider: VendorProvider, fake: WireFake) -> dict[str, Any]:
    """The JSON body the provider's SDK put on the wire for one call."""

    async def once() -> None:
        try:
            await provider.complete(REQUEST)
        finally:
            await provider.aclose()

    asyncio.run(once())
    body = fake.received[-1].body
    assert isinstance(body, dict)
    return body


def provider_for(provider: str, model: str, fake: WireFake) -> VendorProvider:
    if provider == "anthropic":
        return AnthropicProvider(model, "sk-ant-test", base_url=fake.url)
    if provider == "gemini":
        return GeminiProvider(model, "gemini-test", base_url=fake.url)
    vendor = {"openai": "openai", "xai": "xai", "ollama": "local"}[provider]
    return OpenAIProvider(model, "sk-test", vendor=vendor, base_url=fake.url + "/v1")


def test_the_defaults_are_todays_models_with_todays_prices() -> None:
    roster = {agent.name: agent for agent in default_agents()}
    assert {name: agent.model for name, agent in roster.items()} == {
        "claude": "claude-sonnet-5-5",
        "chatgpt": "gpt-6.2-sol",
        "gemini": "gemini-3.8-flash",
        "copilot": "gpt-6.1-sol",
        "grok": "grok-4.7",
    }
    prices = {
        name: (agent.price_input_per_mtok, agent.price_output_per_mtok) for name, agent in roster.items()
    }
    assert prices == {
        "claude": (2.0, 10.0),
        "chatgpt": (2.0, 10.0),
        "gemini": (0.75, 3.75),
        "copilot": (0.0, 0.0),  # a Copilot subscription, not billed per token
        "grok": (2.0, 6.0),
    }
    assert Settings().agents == default_agents()


def test_claude_sonnet_5_5_gets_no_temperature_no_forced_tool_and_between_tools_thinking(
    fake: WireFake,
) -> None:
    body = sent(provider_for("anthropic", "claude-sonnet-5-5", fake), fake)
    assert body["thinking"] == {"type": "between_tools"}  # `disabled` is refused on this model
    assert body["max_tokens"] == 800
    assert not {"temperature", "top_p", "top_k", "tool_choice"} & set(body)


@pytest.mark.parametrize("model", ["claude-opus-5-5", "claude-fable-5-1", "claude-haiku-5-5"])
def test_claude_models_that_always_think_are_sent_no_thinking_setting(fake: WireFake, model: str) -> None:
    body = sent(provider_for("anthropic", model, fake), fake)
    assert not {"thinking", "temperature", "top_p", "top_k", "tool_choice"} & set(body)
    assert capabilities("anthropic", model).thinking == "always_on"
    assert not capabilities("anthropic", model).forced_tool_use


def test_claude_5_turns_thinking_off_and_older_claude_is_sent_what_it_always_was(fake: WireFake) -> None:
    assert sent(provider_for("anthropic", "claude-sonnet-5", fake), fake)["thinking"] == {"type": "disabled"}
    older = sent(provider_for("anthropic", "claude-sonnet-4-5-20250929", fake), fake)
    assert not {"thinking", "temperature", "tool_choice"} & set(older)
    assert capabilities("anthropic", "claude-sonnet-4-5").forced_tool_use


@pytest.mark.parametrize("model", ["gpt-6.2-sol", "gpt-6-astra", "gpt-5", "o4-mini"])
def test_openai_reasoning_models_get_max_completion_tokens_and_no_temperature(
    fake: WireFake, model: str
) -> None:
    body = sent(provider_for("openai", model, fake), fake)
    assert body["max_completion_tokens"] == 800
    assert not {"max_tokens", "temperature", "top_p"} & set(body)


@pytest.mark.parametrize(
    ("provider", "model"), [("openai", "gpt-4o"), ("xai", "grok-4.7"), ("ollama", "qwen")]
)
def test_other_chat_models_keep_max_tokens_and_temperature(fake: WireFake, provider: str, model: str) -> None:
    body = sent(provider_for(provider, model, fake), fake)
    assert body["max_tokens"] == 800
    assert body["temperature"] == 0.3
    assert "max_completion_tokens" not in body


@pytest.mark.parametrize("model", ["gemini-3.8-flash", "gemini-3.6-flash", "gemini-flash-latest"])
def test_the_newest_gemini_models_get_no_sampling_parameters(fake: WireFake, model: str) -> None:
    config = sent(provider_for("gemini", model, fake), fake)["generationConfig"]
    assert config["maxOutputTokens"] == 800
    assert not {"temperature", "topP", "topK"} & set(config)


def test_older_gemini_models_keep_their_temperature(fake: WireFake) -> None:
    config = sent(provider_for("gemini", "gemini-2.5-pro", fake), fake)["generationConfig"]
    assert config["temperature"] == 0.3


DEFAULT_API_AGENTS = [agent for agent in default_agents() if agent.provider != "copilot"]


@pytest.mark.parametrize("agent", DEFAULT_API_AGENTS, ids=[agent.name for agent in DEFAULT_API_AGENTS])
def test_no_default_agent_sends_a_parameter_its_model_refuses(fake: WireFake, agent: AgentSettings) -> None:
    body = sent(provider_for(agent.provider, agent.model, fake), fake)
    found = capabilities({"gemini": "google"}.get(agent.provider, agent.provider), agent.model)
    keys = set(body) | set(body.get("generationConfig", {}))
    if not found.sampling:
        assert not keys & {"temperature", "top_p", "top_k", "topP", "topK"}
    if not found.forced_tool_use:
        assert "tool_choice" not in keys
    if found.thinking == "always_on":
        assert "thinking" not in keys
    if "thinking" in body:
        assert body["thinking"] == found.thinking_off

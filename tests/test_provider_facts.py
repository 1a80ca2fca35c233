"""Vendor facts live on each provider class; every provider closes through `aclose`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from orkestra_tui.config import PROVIDERS, AgentSettings, Paths, Settings
from orkestra_tui.engine.engine import Engine
from orkestra_tui.providers.anthropic import AnthropicProvider
from orkestra_tui.providers.base import Message, Provider, ProviderRequest, ProviderSettings
from orkestra_tui.providers.command import CommandProvider
from orkestra_tui.providers.copilot import CopilotProvider
from orkestra_tui.providers.openai import OllamaProvider, OpenAIProvider, XaiProvider
from orkestra_tui.providers.registry import PROVIDER_CLASSES, build_agents
from orkestra_tui.providers.simulated import SimulatedProvider

REQUEST = ProviderRequest(system="Be brief.", messages=(Message("user", "Hello?"),))

FACTS = {
    # provider: (vendor, key variables in lookup order, older model variable)
    "anthropic": ("anthropic", ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY"), "CLAUDE_MODEL"),
    "openai": ("openai", ("OPENAI_API_KEY", "CHATGPT_API_KEY"), "CHATGPT_MODEL"),
    "gemini": ("google", ("GEMINI_API_KEY", "GOOGLE_API_KEY"), "GEMINI_MODEL"),
    "xai": ("xai", ("XAI_API_KEY", "GROK_API_KEY"), "GROK_MODEL"),
    "ollama": ("local", (), ""),
    "copilot": ("github", ("GITHUB_TOKEN", "COPILOT_API_KEY"), "COPILOT_MODEL"),
    "command": ("local", (), ""),
    "simulated": ("simulated", (), ""),
}


def test_every_configurable_provider_has_one_class_that_carries_its_vendor_facts() -> None:
    assert set(PROVIDER_CLASSES) == set(PROVIDERS)
    for provider, (vendor, key_variables, model_variable) in FACTS.items():
        facts = PROVIDER_CLASSES[provider]
        assert (facts.vendor, facts.key_variables, facts.model_variable) == (
            vendor,
            key_variables,
            model_variable,
        ), provider
        assert facts.keyless() is not bool(key_variables)
    assert PROVIDER_CLASSES["xai"].default_base_url == "https://api.x.ai/v1"
    assert PROVIDER_CLASSES["copilot"].sdk_extra == "copilot"
    assert [name for name, facts in PROVIDER_CLASSES.items() if not facts.real] == ["simulated"]


def test_each_agent_gets_its_providers_class_built_from_its_settings(tmp_path: Path) -> None:
    settings = Settings(
        agents=(
            AgentSettings(name="claude", provider="anthropic", model="claude-x"),
            AgentSettings(name="grok", provider="xai", model="grok-x"),
            AgentSettings(name="llama", provider="ollama", model="llama3"),
            AgentSettings(name="qwen", provider="openai", model="qwen", base_url="http://127.0.0.1:8080/v1"),
            AgentSettings(name="cli", provider="command", command=["cat"]),
        )
    )
    env = {
        "ANTHROPIC_API_KEY": "sk-ant-facts-0123456789",
        "XAI_API_KEY": "xai-facts-0123456789",
        "OPENAI_API_KEY": "sk-facts-0123456789",
    }
    runtimes = {runtime.name: runtime for runtime in build_agents(settings, env, workspace=str(tmp_path))}
    providers = {name: runtime.provider for name, runtime in runtimes.items()}
    assert type(providers["claude"]) is AnthropicProvider
    grok = providers["grok"]
    assert isinstance(grok, XaiProvider) and grok.vendor == "xai" and not grok.stream
    assert runtimes["grok"].base_url == "https://api.x.ai/v1"
    llama = providers["llama"]
    assert isinstance(llama, OllamaProvider) and llama.vendor == "local" and llama.stream
    assert runtimes["llama"].api_key == "ollama" and runtimes["llama"].base_url == "http://localhost:11434/v1"
    qwen = providers["qwen"]
    assert type(qwen) is OpenAIProvider and qwen.vendor == "openai" and qwen.stream
    command = providers["cli"]
    assert isinstance(command, CommandProvider) and command.command == ["cat"]
    assert command.workspace == tmp_path


@pytest.mark.parametrize(
    "provider",
    [
        AnthropicProvider.from_settings(ProviderSettings(model="claude-x", api_key="sk-ant-never-sent")),
        XaiProvider.from_settings(ProviderSettings(model="grok-x", base_url="http://127.0.0.1:9/v1")),
        CommandProvider.from_settings(ProviderSettings(model="", command=("cat",))),
        CopilotProvider.from_settings(ProviderSettings(model="gpt-5")),
        SimulatedProvider("sim"),
    ],
    ids=lambda provider: type(provider).__name__,
)
async def test_closing_a_provider_that_never_called_is_a_no_op(provider: Provider) -> None:
    await provider.aclose()
    await provider.aclose()  # and so is closing twice


class FakeSession:
    def __init__(self) -> None:
        self.closed = False

    async def ask(self, prompt: str, timeout_s: float) -> str:
        return "pong"

    async def close(self) -> None:
        self.closed = True


async def test_closing_the_engine_ends_a_copilot_agents_cli_session(paths: Paths, settings: Settings) -> None:
    session = FakeSession()

    async def factory(model: str, workspace: Path) -> FakeSession:
        return session

    engine = Engine(
        paths, replace(settings, agents=(AgentSettings(name="pilot", provider="copilot"),)), env={}
    )
    engine.use_provider("pilot", CopilotProvider("gpt-5", workspace=paths.data_dir, session_factory=factory))
    assert (await engine.test_agent("pilot")).ok
    await engine.aclose()
    assert session.closed


async def test_closing_the_engine_builds_no_provider(
    paths: Paths, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []

    def counting(cls: type[AnthropicProvider], provider_settings: ProviderSettings) -> AnthropicProvider:
        built.append(provider_settings.model)
        return cls(provider_settings.model, provider_settings.api_key)

    monkeypatch.setattr(AnthropicProvider, "from_settings", classmethod(counting))
    agents = (AgentSettings(name="claude", provider="anthropic", model="claude-x"),)
    env = {"ANTHROPIC_API_KEY": "sk-ant-facts-0123456789"}
    engine = Engine(paths, replace(settings, agents=agents), env=env)
    assert not engine.runtimes["claude"].simulated
    await engine.aclose()
    assert built == []

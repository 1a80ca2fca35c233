"""Builds the committee's agents from settings and the environment.

Each `provider` of config.toml names one provider class (`PROVIDER_CLASSES`),
and everything known about its vendor (key and model variables, endpoints,
SDK, what counts as local, how it is built) is a class attribute or class
method of that class (`VendorFacts` in `providers/base.py`).

Key lookup order, for each agent:
1. the variable named by the agent's `api_key_env`;
2. the vendor's usual variable (ANTHROPIC_API_KEY, OPENAI_API_KEY,
   GEMINI_API_KEY or GOOGLE_API_KEY, XAI_API_KEY, GITHUB_TOKEN);
3. the older names (CLAUDE_API_KEY, CHATGPT_API_KEY, GROK_API_KEY,
   COPILOT_API_KEY).

An agent whose key is missing, whose provider's optional SDK is not installed,
or whose provider has no real adapter in this build, is simulated, and says
why. Keys are registered with `orkestra_tui.secrets` so that they are redacted
wherever text is written; the key values themselves stay in this process's
memory only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orkestra_tui.config import AgentSettings, Settings, SimulationSettings
from orkestra_tui.providers.anthropic import AnthropicProvider
from orkestra_tui.providers.base import Provider, ProviderSettings, VendorFacts
from orkestra_tui.providers.command import CommandProvider, command_environment
from orkestra_tui.providers.copilot import CopilotProvider
from orkestra_tui.providers.gemini import GeminiProvider
from orkestra_tui.providers.openai import OllamaProvider, OpenAIProvider, XaiProvider
from orkestra_tui.providers.simulated import SimulatedProvider
from orkestra_tui.secrets import register_secret

PROVIDER_CLASSES: dict[str, type[VendorFacts]] = {
    "anthropic": AnthropicProvider,
    "openai": OpenAIProvider,
    "gemini": GeminiProvider,
    "xai": XaiProvider,
    "ollama": OllamaProvider,
    "copilot": CopilotProvider,
    "command": CommandProvider,
    "simulated": SimulatedProvider,
}
"""The class behind each `provider` of config.toml; each carries its vendor's facts.
Importing them imports no SDK: each is imported on an agent's first call."""

DEFAULT_CONCURRENCY = 2
LOCAL_CONCURRENCY = 1
"""A local server answers one request at a time: a second task would only queue behind the first."""


def provider_class(provider: str) -> type[VendorFacts]:
    """The class of a configured provider name (config.toml accepts no other)."""
    return PROVIDER_CLASSES[provider]


@dataclass(frozen=True)
class AgentRuntime:
    """One agent ready to be called; its provider is built (and imported) on first use."""

    settings: AgentSettings
    vendor: str
    simulated: bool
    simulated_reason: str
    simulation: SimulationSettings
    provider_override: Provider | None = None
    """A provider given at run time (a test's fake, for one), used instead of building one."""
    model: str = ""
    """The model in use: the configured one, or the one an older model variable names."""
    base_url: str = ""
    key_variable: str = ""
    """Where the key came from (its name only)."""
    timeout_s: float = 120.0
    """Seconds one request may take: the agent's own setting, else the engine's (longer for a local model)."""
    local: bool = False
    """A model served on this machine or network (see `is_local`)."""
    concurrency: int = 2
    """Most tasks at once: the agent's own setting, else 1 for a local model and 2 otherwise."""
    api_key: str = field(default="", repr=False, compare=False)
    """Kept in memory only, and out of every repr."""
    workspace: str = ""
    """The folder a command agent runs in."""
    command_env: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """The stripped environment a command agent runs with."""

    _built: list[Provider] = field(default_factory=list, init=False, repr=False, compare=False)
    """The provider once made (at most one): what `aclose` closes."""

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def provider(self) -> Provider:
        if not self._built:
            self._built.append(self._make_provider())
        return self._built[0]

    async def aclose(self) -> None:
        """Close the provider if it was made; never make one to close it."""
        if self._built:
            await self._built[0].aclose()

    def _make_provider(self) -> Provider:
        if self.provider_override is not None:
            return self.provider_override
        if not self.simulated:
            return provider_class(self.settings.provider).from_settings(self.provider_settings())
        return SimulatedProvider(
            self.settings.name,
            vendor=self.vendor,
            model=self.settings.model,
            seed=self.simulation.seed,
            latency_ms=self.simulation.latency_ms,
            failure_rate=self.simulation.failure_rate,
        )

    def provider_settings(self) -> ProviderSettings:
        """What the agent's real provider is built from."""
        return ProviderSettings(
            model=self.model,
            api_key=self.api_key,
            base_url=self.base_url,
            timeout_s=self.timeout_s,
            local=self.local,
            workspace=Path(self.workspace),
            command=tuple(self.settings.command),
            command_env=self.command_env,
            key_variable=self.settings.api_key_env,
        )


def find_key(agent: AgentSettings, env: Mapping[str, str]) -> tuple[str, str] | None:
    """The (variable, key) for an agent, following the documented lookup order."""
    for variable in key_variables(agent):
        value = env.get(variable, "").strip()
        if value:
            return variable, value
    return None


def key_variables(agent: AgentSettings) -> tuple[str, ...]:
    """The variables an agent's key may come from, in lookup order."""
    own = (agent.api_key_env,) if agent.api_key_env else ()
    return own + provider_class(agent.provider).key_variables


def build_agents(
    settings: Settings, env: Mapping[str, str], *, demo: bool = False, workspace: str = ""
) -> list[AgentRuntime]:
    """Every configured agent, real where possible and simulated otherwise."""
    return [_runtime(agent, settings, env, demo, workspace) for agent in settings.agents]


def _runtime(
    agent: AgentSettings, settings: Settings, env: Mapping[str, str], demo: bool, workspace: str
) -> AgentRuntime:
    facts = provider_class(agent.provider)
    keyless = facts.keyless()
    key = None if keyless else find_key(agent, env)
    if key is not None:
        register_secret(key[1])
    real = not demo and facts.real and (key is not None or keyless) and not facts.missing_extra()
    model = (env.get(facts.model_variable, "").strip() if facts.model_variable else "") or agent.model
    base_url = base_url_for(agent, env)
    local = facts.serves_locally(base_url)
    engine = settings.engine
    default_timeout_s = engine.local_agent_timeout_s if local else engine.agent_timeout_s
    return AgentRuntime(
        settings=agent,
        vendor=facts.vendor,
        simulated=not real,
        simulated_reason="" if real else _simulated_reason(agent, key, demo),
        simulation=settings.simulation,
        model=model,
        base_url=base_url,
        key_variable=key[0] if key else "",
        timeout_s=agent.timeout_s or default_timeout_s,
        local=local,
        concurrency=agent.concurrency or (LOCAL_CONCURRENCY if local else DEFAULT_CONCURRENCY),
        api_key=key[1] if key else facts.placeholder_key,
        workspace=workspace,
        command_env=command_environment(env, agent.api_key_env) if facts is CommandProvider else {},
    )


def is_local(provider: str, base_url: str) -> bool:
    """Whether an agent's model is served locally: ollama, or an OpenAI-compatible server at a local
    address (loopback, a private network, `localhost`, a `.local` or `.lan` name).

    Local servers are slow (a CPU, one request at a time), so they get longer
    timeouts and one task at a time by default. Only OpenAI-compatible endpoints
    count: an Anthropic or Gemini base URL on this machine is a proxy to the vendor.
    """
    return provider_class(provider).serves_locally(base_url)


def base_url_for(agent: AgentSettings, env: Mapping[str, str]) -> str:
    """The endpoint: the config's base_url wins, then the vendor's variable, then its default."""
    return agent.base_url or provider_class(agent.provider).base_url_from(env)


def missing_extra(provider: str) -> str:
    """Why the provider's optional SDK cannot be used ("" when it is installed); nothing is imported."""
    return provider_class(provider).missing_extra()


def _simulated_reason(agent: AgentSettings, key: tuple[str, str] | None, demo: bool) -> str:
    facts = provider_class(agent.provider)
    if demo:
        return "demo mode"
    if not facts.real:
        return "configured as simulated"
    if not facts.keyless() and key is None:
        return f"no key ({key_variables(agent)[0]} is not set)"
    if facts.missing_extra():
        return facts.missing_extra()
    return f"the {agent.provider} provider is not available in this version"

"""Builds the committee's agents from settings and the environment.

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
from functools import cached_property
from typing import TYPE_CHECKING

from orkestra_tui.config import AgentSettings, Settings, SimulationSettings
from orkestra_tui.secrets import register_secret

if TYPE_CHECKING:
    from orkestra_tui.providers.base import Provider

VENDORS: dict[str, str] = {
    "anthropic": "anthropic",
    "openai": "openai",
    "gemini": "google",
    "xai": "xai",
    "ollama": "local",
    "copilot": "github",
    "command": "local",
    "simulated": "simulated",
}
"""The company behind each provider; cross-review pairs agents of different vendors."""

KEY_VARIABLES: dict[str, tuple[str, ...]] = {
    "anthropic": ("ANTHROPIC_API_KEY", "CLAUDE_API_KEY"),
    "openai": ("OPENAI_API_KEY", "CHATGPT_API_KEY"),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "xai": ("XAI_API_KEY", "GROK_API_KEY"),
    "copilot": ("GITHUB_TOKEN", "COPILOT_API_KEY"),
}
"""The vendor's usual variables, then the older names, in lookup order."""

KEYLESS_PROVIDERS = frozenset({"ollama", "command", "simulated"})

REAL_PROVIDERS = frozenset({"anthropic", "openai", "gemini", "xai", "ollama", "command", "copilot"})
"""Providers with a real adapter in this build; the others run simulated."""

OPTIONAL_EXTRAS: dict[str, tuple[str, str]] = {"copilot": ("copilot", "github-copilot-sdk")}
"""Providers whose SDK comes in an optional extra: (the module it imports, the package to install)."""

MODEL_VARIABLES: dict[str, str] = {
    "anthropic": "CLAUDE_MODEL",
    "openai": "CHATGPT_MODEL",
    "gemini": "GEMINI_MODEL",
    "xai": "GROK_MODEL",
    "copilot": "COPILOT_MODEL",
}
"""The older variables that override an agent's configured model."""

BASE_URL_VARIABLES: dict[str, str] = {
    "anthropic": "ANTHROPIC_BASE_URL",
    "openai": "OPENAI_BASE_URL",
    "gemini": "GOOGLE_GEMINI_BASE_URL",
}
DEFAULT_BASE_URLS: dict[str, str] = {"xai": "https://api.x.ai/v1"}
OLLAMA_DEFAULT_HOST = "http://localhost:11434"
LOCAL_NAME_SUFFIXES = (".localhost", ".local", ".lan", ".internal")
DEFAULT_CONCURRENCY = 2
LOCAL_CONCURRENCY = 1
"""A local server answers one request at a time: a second task would only queue behind the first."""


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

    @property
    def name(self) -> str:
        return self.settings.name

    @cached_property
    def provider(self) -> Provider:
        if self.provider_override is not None:
            return self.provider_override
        if not self.simulated:
            return self._real_provider()
        from orkestra_tui.providers.simulated import SimulatedProvider

        return SimulatedProvider(
            self.settings.name,
            vendor=self.vendor,
            model=self.settings.model,
            seed=self.simulation.seed,
            latency_ms=self.simulation.latency_ms,
            failure_rate=self.simulation.failure_rate,
        )

    def _real_provider(self) -> Provider:
        provider = self.settings.provider
        base_url = self.base_url or None
        if provider == "copilot":
            from pathlib import Path

            from orkestra_tui.providers.copilot import CopilotProvider

            return CopilotProvider(self.model, workspace=Path(self.workspace), timeout_s=self.timeout_s)
        if provider == "command":
            from pathlib import Path

            from orkestra_tui.providers.command import CommandProvider

            return CommandProvider(
                self.settings.command,
                workspace=Path(self.workspace),
                model=self.model,
                env=self.command_env,
                timeout_s=self.timeout_s,
            )
        if provider == "anthropic":
            from orkestra_tui.providers.anthropic import AnthropicProvider

            return AnthropicProvider(self.model, self.api_key, base_url=base_url, timeout_s=self.timeout_s)
        if provider == "gemini":
            from orkestra_tui.providers.gemini import GeminiProvider

            return GeminiProvider(self.model, self.api_key, base_url=base_url, timeout_s=self.timeout_s)
        from orkestra_tui.providers.openai import OpenAIProvider

        return OpenAIProvider(
            self.model,
            self.api_key,
            vendor=self.vendor,
            base_url=base_url,
            timeout_s=self.timeout_s,
            stream=self.local,  # a local server stops generating when the stream it writes to closes
        )


def find_key(agent: AgentSettings, env: Mapping[str, str]) -> tuple[str, str] | None:
    """The (variable, key) for an agent, following the documented lookup order."""
    candidates = ((agent.api_key_env,) if agent.api_key_env else ()) + KEY_VARIABLES.get(agent.provider, ())
    for variable in candidates:
        value = env.get(variable, "").strip()
        if value:
            return variable, value
    return None


def key_variables(agent: AgentSettings) -> tuple[str, ...]:
    """The variables an agent's key may come from, in lookup order."""
    own = (agent.api_key_env,) if agent.api_key_env else ()
    return own + KEY_VARIABLES.get(agent.provider, ())


def build_agents(
    settings: Settings, env: Mapping[str, str], *, demo: bool = False, workspace: str = ""
) -> list[AgentRuntime]:
    """Every configured agent, real where possible and simulated otherwise."""
    return [_runtime(agent, settings, env, demo, workspace) for agent in settings.agents]


def _runtime(
    agent: AgentSettings, settings: Settings, env: Mapping[str, str], demo: bool, workspace: str
) -> AgentRuntime:
    key = None if agent.provider in KEYLESS_PROVIDERS else find_key(agent, env)
    if key is not None:
        register_secret(key[1])
    keyless = agent.provider in KEYLESS_PROVIDERS
    real = (
        not demo
        and agent.provider in REAL_PROVIDERS
        and (key is not None or keyless)
        and not missing_extra(agent.provider)
    )
    model = env.get(MODEL_VARIABLES.get(agent.provider, ""), "").strip() or agent.model
    base_url = base_url_for(agent, env)
    local = is_local(agent.provider, base_url)
    engine = settings.engine
    default_timeout_s = engine.local_agent_timeout_s if local else engine.agent_timeout_s
    return AgentRuntime(
        settings=agent,
        vendor=VENDORS[agent.provider],
        simulated=not real,
        simulated_reason="" if real else _simulated_reason(agent, key, demo),
        simulation=settings.simulation,
        model=model,
        base_url=base_url,
        key_variable=key[0] if key else "",
        timeout_s=agent.timeout_s or default_timeout_s,
        local=local,
        concurrency=agent.concurrency or (LOCAL_CONCURRENCY if local else DEFAULT_CONCURRENCY),
        api_key=key[1] if key else ("ollama" if agent.provider == "ollama" else ""),
        workspace=workspace,
        command_env=_command_env(agent, env) if agent.provider == "command" else {},
    )


def is_local(provider: str, base_url: str) -> bool:
    """Whether an agent's model is served locally: ollama, or an OpenAI-compatible server at a local
    address (loopback, a private network, `localhost`, a `.local` or `.lan` name).

    Local servers are slow (a CPU, one request at a time), so they get longer
    timeouts and one task at a time by default. Only OpenAI-compatible endpoints
    count: an Anthropic or Gemini base URL on this machine is a proxy to the vendor.
    """
    if provider == "ollama":
        return True
    if provider != "openai" or not base_url:
        return False
    import ipaddress
    from urllib.parse import urlsplit

    try:
        host = (urlsplit(base_url).hostname or "").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(LOCAL_NAME_SUFFIXES):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified


def _command_env(agent: AgentSettings, env: Mapping[str, str]) -> dict[str, str]:
    from orkestra_tui.providers.command import command_environment

    return command_environment(env, agent.api_key_env)


def base_url_for(agent: AgentSettings, env: Mapping[str, str]) -> str:
    """The endpoint: the config's base_url wins, then the vendor's variable, then its default."""
    if agent.base_url:
        return agent.base_url
    if agent.provider == "ollama":
        host = env.get("OLLAMA_HOST", "").strip() or OLLAMA_DEFAULT_HOST
        if "://" not in host:
            host = f"http://{host}"
        return host.rstrip("/") + "/v1"
    variable = BASE_URL_VARIABLES.get(agent.provider)
    if variable and env.get(variable, "").strip():
        return env[variable].strip()
    return DEFAULT_BASE_URLS.get(agent.provider, "")


def missing_extra(provider: str) -> str:
    """Why the provider's optional SDK cannot be used ("" when it is installed); nothing is imported."""
    if provider not in OPTIONAL_EXTRAS:
        return ""
    from importlib.util import find_spec

    module, package = OPTIONAL_EXTRAS[provider]
    try:
        found = find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    return "" if found else f"the {package} package is missing; pip install 'orkestra-tui[{provider}]'"


def _simulated_reason(agent: AgentSettings, key: tuple[str, str] | None, demo: bool) -> str:
    if demo:
        return "demo mode"
    if agent.provider == "simulated":
        return "configured as simulated"
    if agent.provider not in KEYLESS_PROVIDERS and key is None:
        return f"no key ({key_variables(agent)[0]} is not set)"
    if missing_extra(agent.provider):
        return missing_extra(agent.provider)
    return f"the {agent.provider} provider is not available in this version"

"""Building agents: the key lookup order, simulation, and keys kept secret."""

from __future__ import annotations

from dataclasses import replace

from orkestra_tui.config import AgentSettings, Settings
from orkestra_tui.providers.registry import build_agents, find_key
from orkestra_tui.secrets import REDACTED, redact

CLAUDE = AgentSettings(name="claude", provider="anthropic")


def test_the_agents_own_variable_comes_first() -> None:
    agent = replace(CLAUDE, api_key_env="MY_KEY")
    env = {
        "MY_KEY": "own-key-123456",
        "ANTHROPIC_API_KEY": "vendor-key-123456",
        "CLAUDE_API_KEY": "old",
    }
    assert find_key(agent, env) == ("MY_KEY", "own-key-123456")


def test_then_the_vendors_variable_then_the_older_name() -> None:
    assert find_key(CLAUDE, {"ANTHROPIC_API_KEY": "v", "CLAUDE_API_KEY": "o"}) == (
        "ANTHROPIC_API_KEY",
        "v",
    )
    assert find_key(CLAUDE, {"CLAUDE_API_KEY": "o"}) == ("CLAUDE_API_KEY", "o")
    gemini = AgentSettings(name="g", provider="gemini")
    assert find_key(gemini, {"GOOGLE_API_KEY": "k"}) == ("GOOGLE_API_KEY", "k")
    assert find_key(CLAUDE, {"ANTHROPIC_API_KEY": "  "}) is None


def test_without_keys_every_agent_is_simulated_and_says_why() -> None:
    agents = build_agents(Settings(), {})
    assert all(agent.simulated for agent in agents)
    reasons = {agent.name: agent.simulated_reason for agent in agents}
    assert reasons["claude"] == "no key (ANTHROPIC_API_KEY is not set)"
    assert reasons["grok"] == "no key (XAI_API_KEY is not set)"


def test_demo_simulates_even_agents_with_keys() -> None:
    agents = build_agents(Settings(), {"ANTHROPIC_API_KEY": "sk-ant-test-0123456789"}, demo=True)
    assert {agent.simulated_reason for agent in agents} == {"demo mode"}


def test_keys_read_from_the_environment_are_redacted_everywhere() -> None:
    secret = "very-secret-key-0123456789"
    build_agents(Settings(), {"OPENAI_API_KEY": secret})
    assert redact(f"401 from server: key {secret} rejected") == f"401 from server: key {REDACTED} rejected"


def test_token_shaped_strings_are_redacted_even_if_unknown() -> None:
    text = "Authorization: Bearer abcdefghijklmnopqrstuvwxyz and sk-proj-ABCDEFGHIJKLMNOP"
    assert redact(text) == f"Authorization: {REDACTED} and {REDACTED}"

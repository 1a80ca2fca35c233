"""What each model family accepts, in one table, so that no request sends a parameter its model refuses.

The providers ask `capabilities(vendor, model)` and build their sampling and
thinking arguments from the answer (`anthropic_options`, `chat_options`,
`gemini_sampling`); nothing else in a provider knows about model versions.

A rule names a vendor, a family (a regular expression whose `version` group
holds the model's version, `5-5` or `3.8`) and the first version it covers.
The first rule that matches wins, so the newest come first. A model no rule
matches keeps the old behaviour: a temperature, `max_tokens`, forced tool use,
and no thinking unless asked for.

Sources (read on 2026-12-03):
- Claude: platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 and its
  migration guide (sampling parameters, forced tool choice and `thinking: disabled`
  return 400 on Claude Sonnet 5.5; `between_tools` is its lowest thinking setting);
  the Claude Sonnet 5 page (non-default sampling parameters return 400 from Claude 5
  on); platform.claude.com/docs/about-claude/models/overview (thinking is always on
  for Claude Opus 5.5 and the Fable models).
- OpenAI: developers.openai.com/api/docs/guides/latest-model ("when reasoning effort is
  not none, remove temperature, top_p and top_logprobs"; GPT-6.1 and 6.2 Sol take no
  `none`); reasoning models take `max_completion_tokens`, not `max_tokens`.
- Gemini: ai.google.dev/gemini-api/docs/changelog, 2026-07-21 (temperature, top_p and
  top_k are deprecated from Gemini 3.6 Flash on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

ThinkingMode = Literal["off", "can_turn_off", "always_on"]
"""off: the model does not think unless asked; can_turn_off: it thinks by default and
`thinking_off` turns the up-front thinking off; always_on: nothing turns it off."""


@dataclass(frozen=True)
class ModelCapabilities:
    """What one model accepts."""

    sampling: bool = True
    """Whether temperature (and top_p, top_k) may be sent."""
    token_limit: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    """The name the chat-completions API takes the answer's length limit under."""
    forced_tool_use: bool = True
    """Whether `tool_choice` may force a tool (a route to structured output)."""
    thinking: ThinkingMode = "off"
    thinking_off: dict[str, Any] = field(default_factory=dict)
    """What to send as `thinking` to turn the up-front thinking off; empty when nothing is sent."""


LEGACY = ModelCapabilities()
"""Models no rule knows: what every request sent before the catalog existed."""

ANTHROPIC_FAMILY = r"claude-(?:sonnet|opus|haiku)-(?P<version>\d+(?:-\d+)?)"
FABLE_FAMILY = r"claude-(?:fable|mythos)-(?P<version>\d+(?:-\d+)?)"
GPT_FAMILY = r"gpt-(?P<version>\d+(?:\.\d+)?)(?:-.*)?"
O_SERIES_FAMILY = r"o(?P<version>[1-9])(?:-.*)?"
GEMINI_FAMILY = r"gemini-(?P<version>\d+(?:\.\d+)?)-.+"
GEMINI_LATEST = r"gemini-(?:pro|flash|flash-lite)-latest(?P<version>)"
"""Google's `-latest` aliases always point at the newest models."""


@dataclass(frozen=True)
class ModelRule:
    vendor: str
    """The company behind the model, as `AgentRuntime.vendor` names it: anthropic, openai, google."""
    family: str
    since: tuple[int, ...]
    capabilities: ModelCapabilities

    def matches(self, vendor: str, model: str) -> bool:
        if vendor != self.vendor:
            return False
        found = re.fullmatch(self.family, _bare(model))
        return found is not None and _version(found.group("version")) >= self.since


RULES: tuple[ModelRule, ...] = (
    # Claude Sonnet 5.5: no sampling, no forced tool use, `between_tools` instead of `disabled`.
    ModelRule(
        "anthropic",
        r"claude-sonnet-(?P<version>\d+(?:-\d+)?)",
        (5, 5),
        ModelCapabilities(
            sampling=False,
            forced_tool_use=False,
            thinking="can_turn_off",
            thinking_off={"type": "between_tools"},
        ),
    ),
    # Claude Opus 5.5 and the Fable models: thinking always on, so no forced tool use either.
    ModelRule(
        "anthropic",
        r"claude-opus-(?P<version>\d+(?:-\d+)?)",
        (5, 5),
        ModelCapabilities(sampling=False, forced_tool_use=False, thinking="always_on"),
    ),
    ModelRule(
        "anthropic",
        FABLE_FAMILY,
        (5,),
        ModelCapabilities(sampling=False, forced_tool_use=False, thinking="always_on"),
    ),
    # Claude Haiku 5.5: adaptive thinking; its documentation names no way to turn it off.
    ModelRule(
        "anthropic",
        r"claude-haiku-(?P<version>\d+(?:-\d+)?)",
        (5, 5),
        ModelCapabilities(sampling=False, forced_tool_use=False, thinking="always_on"),
    ),
    # Claude 5 (Sonnet 5, Opus 5): adaptive thinking by default, which `disabled` still turns off.
    ModelRule(
        "anthropic",
        ANTHROPIC_FAMILY,
        (5,),
        ModelCapabilities(sampling=False, thinking="can_turn_off", thinking_off={"type": "disabled"}),
    ),
    # OpenAI's reasoning models (GPT-5 on, the o-series): their default temperature only.
    ModelRule(
        "openai", GPT_FAMILY, (5,), ModelCapabilities(sampling=False, token_limit="max_completion_tokens")
    ),
    ModelRule(
        "openai",
        O_SERIES_FAMILY,
        (1,),
        ModelCapabilities(sampling=False, token_limit="max_completion_tokens"),
    ),
    # Gemini from 3.6 on: temperature, top_p and top_k are deprecated.
    ModelRule("google", GEMINI_FAMILY, (3, 6), ModelCapabilities(sampling=False)),
    ModelRule("google", GEMINI_LATEST, (), ModelCapabilities(sampling=False)),
)


def capabilities(vendor: str, model: str) -> ModelCapabilities:
    """What `model` at `vendor` accepts: the first matching rule's answer, else the legacy one."""
    return next((rule.capabilities for rule in RULES if rule.matches(vendor, model)), LEGACY)


def _bare(model: str) -> str:
    """The model id without a path prefix (`models/`, `publishers/google/models/`) or dated suffix."""
    name = model.strip().lower().rsplit("/", maxsplit=1)[-1]
    return re.sub(r"(?:-\d{8}|-\d{4}-\d{2}-\d{2})$", "", name)


def _version(text: str) -> tuple[int, ...]:
    """`5-5` or `3.8` as (5, 5) or (3, 8); an empty version (an alias) is the newest there is."""
    if not text:
        return (10**6,)
    return tuple(int(part) for part in re.split(r"[.-]", text))


# -------------------------------------------------------- request arguments


def anthropic_options(model: str) -> dict[str, Any]:
    """The Messages API's thinking argument for `model`, if it needs one.

    No temperature is sent to any Claude model. Where a model thinks by default
    and can stop, its up-front thinking is turned off: the engine's answers are
    short JSON documents, and thinking would spend their token budget.
    """
    found = capabilities("anthropic", model)
    if found.thinking == "can_turn_off" and found.thinking_off:
        return {"thinking": dict(found.thinking_off)}
    return {}


def chat_options(vendor: str, model: str, max_tokens: int, temperature: float) -> dict[str, Any]:
    """Chat Completions' length and sampling arguments for `model` at `vendor` (OpenAI or compatible)."""
    found = capabilities(vendor, model)
    options: dict[str, Any] = {found.token_limit: max_tokens}
    if found.sampling:
        options["temperature"] = temperature
    return options


def gemini_sampling(model: str, temperature: float) -> dict[str, Any]:
    """`GenerateContentConfig`'s sampling fields: none for the models that deprecate them."""
    return {"temperature": temperature} if capabilities("google", model).sampling else {}

"""Whether an agent's endpoint offers its configured model, asked of the endpoint's models list.

A configured model that the endpoint does not offer would fail the first vote;
`orkestra doctor` and the Health screen ask before that, and warn with the
closest ids the endpoint does offer. The answer is a warning, never a failure:
an endpoint may serve a model it does not list (an alias, a fine-tune).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from orkestra_tui.providers.base import ProviderError
from orkestra_tui.providers.registry import AgentRuntime, provider_class
from orkestra_tui.secrets import redact

CLOSEST_COUNT = 3


@dataclass(frozen=True)
class ModelCheck:
    """What an agent's endpoint said about its models."""

    agent: str
    model: str
    endpoint: str
    offered: tuple[str, ...] | None = None
    """The model ids the endpoint lists; None when it was not asked (simulated, no models list) or failed."""
    problem: str = ""
    """Why the list could not be read."""

    @property
    def missing(self) -> bool:
        """The endpoint listed its models, and the configured one is not among them."""
        return self.offered is not None and self.model not in self.offered

    @property
    def closest(self) -> tuple[str, ...]:
        """The offered ids nearest the configured one, nearest first."""
        if not self.offered:
            return ()
        near = difflib.get_close_matches(self.model, self.offered, n=CLOSEST_COUNT, cutoff=0.4)
        return tuple(near)

    @property
    def warning(self) -> str:
        """One line saying what is wrong, or empty when nothing is."""
        if self.missing:
            closest = f"; closest: {', '.join(self.closest)}" if self.closest else ""
            offered = len(self.offered or ())
            return f"model {self.model} is not among the {offered} models {self.endpoint} offers{closest}"
        if self.offered is None and self.problem:
            return f"could not list the models {self.endpoint} offers: {self.problem}"
        return ""


def endpoint_of(runtime: AgentRuntime) -> str:
    """The URL an agent's calls go to."""
    provider = runtime.settings.provider
    return runtime.base_url or provider_class(provider).sdk_endpoint or provider


async def check_model(runtime: AgentRuntime) -> ModelCheck:
    """Ask the agent's endpoint for its models list and compare the configured model with it.

    A simulated agent, and a provider with no models list (Copilot, a command),
    are not asked.
    """
    endpoint = endpoint_of(runtime)
    lister = None if runtime.simulated else getattr(runtime.provider, "list_models", None)
    if lister is None:
        return ModelCheck(agent=runtime.name, model=runtime.model, endpoint=endpoint)
    try:
        offered = await lister()
    except ProviderError as error:
        problem = f"{error.error_class}: {error}"
        return ModelCheck(agent=runtime.name, model=runtime.model, endpoint=endpoint, problem=problem)
    except Exception as error:  # an SDK's unexpected answer: a warning, like any other failure here
        problem = redact(f"{type(error).__name__}: {error}")
        return ModelCheck(agent=runtime.name, model=runtime.model, endpoint=endpoint, problem=problem)
    return ModelCheck(
        agent=runtime.name,
        model=runtime.model,
        endpoint=endpoint,
        offered=tuple(str(item) for item in offered),
    )

"""A scripted provider for tests: answers from a function, records every request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orkestra_tui.providers.base import ProviderError, ProviderRequest, ProviderResponse

if TYPE_CHECKING:
    from orkestra_tui.engine.engine import Engine

Script = Callable[[ProviderRequest, int], str | BaseException]
"""Given the request and how many calls came before it, the text to answer, or an error to raise."""


class ScriptedProvider:
    vendor = "test"

    def __init__(self, script: Script, *, model: str = "scripted", delay_s: float = 0.0) -> None:
        self.script = script
        self.model = model
        self.delay_s = delay_s
        self.requests: list[ProviderRequest] = []
        self.release = asyncio.Event()
        self.blocking = False

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        self.requests.append(request)
        if self.blocking:
            await self.release.wait()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        answer = self.script(request, len(self.requests) - 1)
        if isinstance(answer, BaseException):
            raise answer
        return ProviderResponse(text=answer, tokens_in=100, tokens_out=20, model=self.model)

    async def aclose(self) -> None:
        """Nothing to close."""


def ballot_for(*options: str, confidence: float = 0.8, reasoning: str = "because") -> Script:
    """A voter that ranks the given options (by their text) first, in that order."""

    def script(request: ProviderRequest, _index: int) -> str:
        label_of = {item["text"]: item["label"] for item in request.context["options"]}
        ranking = [label_of[option] for option in options if option in label_of]
        return json.dumps({"ranking": ranking, "confidence": confidence, "reasoning": reasoning})

    return script


def garbage(_request: ProviderRequest, _index: int) -> str:
    return "I refuse to answer in JSON. [bold]Here is some markup[/]"


def failing(error_class: str) -> Script:
    def script(_request: ProviderRequest, _index: int) -> BaseException:
        return ProviderError(error_class, f"simulated {error_class}")

    return script


def answers(*texts: str) -> Script:
    """Answers in turn, the last one repeated."""

    def script(_request: ProviderRequest, index: int) -> str:
        return texts[min(index, len(texts) - 1)]

    return script


def as_json(value: Any) -> str:
    return json.dumps(value)


def plan_for(author: str) -> dict[str, Any]:
    """A small valid plan in three tasks over two phases, signed by its author in the summary."""

    def task(key: str, title: str, priority: str, depends_on: list[str]) -> dict[str, Any]:
        return {
            "key": key,
            "title": title,
            "instructions": f"{title}, as {author} sees it.",
            "category": "code",
            "priority": priority,
            "depends_on": depends_on,
            "acceptance": [f"{title.lower()} is reviewed"],
        }

    return {
        "summary": f"{author}'s plan: small steps",
        "phases": [
            {
                "name": "Foundations",
                "tasks": [
                    task("t1", "Set up the repository", "high", []),
                    task("t2", "Write the API", "normal", ["t1"]),
                ],
            },
            {"name": "Polish", "tasks": [task("t3", "Write the docs", "low", ["t2"])]},
        ],
    }


def committee_member(author: str) -> Script:
    """An agent that drafts `plan_for(author)`, votes for the first plan it is shown, and as
    chair adds a test task. Two such agents, each shown only the other's plan, tie every round."""

    def script(request: ProviderRequest, _index: int) -> str:
        if request.purpose == "ballot":
            first = request.context["options"][0]["label"]
            return json.dumps({"ranking": [first], "confidence": 0.7, "reasoning": f"{author} likes it"})
        plan = plan_for(author)
        if request.purpose == "synthesis":
            plan["phases"][1]["tasks"].append(
                {
                    "key": "t4",
                    "title": "Test the API",
                    "instructions": "Cover the API with tests.",
                    "category": "tests",
                    "priority": "high",
                    "depends_on": ["t2"],
                    "acceptance": ["the tests pass"],
                }
            )
        return json.dumps(plan)

    return script


async def vote_until_the_tie_break(engine: Engine, project_id: int) -> None:
    """Run a plan's vote until the committee asks for a tie-break, then stop it, as a closed app would."""
    from orkestra_tui.engine.planning.planning import Planner

    voting = asyncio.ensure_future(Planner(engine).vote(project_id))
    for _ in range(500):
        if engine.inbox.open_items():
            break
        await asyncio.sleep(0.01)
    voting.cancel()
    await asyncio.gather(voting, return_exceptions=True)

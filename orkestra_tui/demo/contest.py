"""Sample contest: a project whose task three agents did at once, and the committee's choice.

For snapshot tests and screenshots of the Board's contests. It drives the engine through its
public methods and a real scheduler run: scripted agents write their own entries (Markdown,
in a project without a repository), vote by what each entry holds (never for their own,
the engine sees to that) and approve the winner in review. A second task has a contest set
and not started, so its card shows the mark a contest gets before it runs.
"""

from __future__ import annotations

import json
import re

from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.scheduler import Scheduler
from orkestra_tui.engine.models import Priority, ProjectStatus, TaskSpec
from orkestra_tui.providers.base import ProviderRequest, ProviderResponse

PREFERRED = ("gemini", "claude", "chatgpt", "copilot", "grok")
"""Whose entry every voter likes best, in order (read from what the entry holds)."""
ENTRIES = {
    "gemini": "# Orkestra\n\nA committee of agents plans, votes on and carries out your project,"
    " in one terminal.\n\n- Every decision is recorded.\n- Nothing is lost in a crash.\n",
    "claude": "# Orkestra\n\nOrkestra runs a committee of LLM agents on one project.\n",
    "chatgpt": "# Orkestra\n\nA terminal app for agents.\n",
    "copilot": "# Orkestra\n\nAgents plan and vote; you decide the ties.\n",
    "grok": "# Orkestra\n\nAgents, together, in a terminal.\n",
}


def entry_text(agent: str) -> str:
    """What AGENT writes for the intro, signed so that voters can tell the entries apart."""
    body = ENTRIES.get(agent, "# Orkestra\n\nAgents, together.\n")
    return f"{body}\n_Written by {agent}._\n"


def _held(request: ProviderRequest) -> dict[str, str]:
    """Each option's label to what the ballot's prompt says it holds."""
    prompt = request.messages[-1].content
    held: dict[str, str] = {}
    for option in request.context.get("options", ()):
        label = str(option["label"])
        match = re.search(rf"What option {label} holds:\n(.*?)(?:\n\nWhat option|$)", prompt, re.S)
        held[label] = match.group(1) if match else ""
    return held


def _rank(text: str) -> int:
    return next((rank for rank, name in enumerate(PREFERRED) if f"by {name}." in text), len(PREFERRED))


class ContestAgent:
    """A scripted agent: its own entry for a task, a ballot by the entries' content, approval in review."""

    vendor = "sample"
    model = "sample"

    def __init__(self, name: str) -> None:
        self.name = name

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        if request.purpose == "review":
            text = json.dumps({"verdict": "approve", "comments": "Clear and short."})
        elif request.purpose == "ballot":
            held = _held(request)
            ranking = sorted(held, key=lambda label: (_rank(held[label]), label))
            text = json.dumps({"ranking": ranking, "confidence": 0.8, "reasoning": "The clearest intro."})
        else:
            text = entry_text(self.name)
        return ProviderResponse(text=text, tokens_in=1_200, tokens_out=400, model=self.model)

    async def aclose(self) -> None:
        """Nothing to close."""


async def contest_project(engine: Engine, *, agents: int = 3) -> tuple[int, int, int]:
    """The project Docs, its intro written as a contest of AGENTS and won; (project, won, set) ids."""
    for agent in engine.agents():
        engine.use_provider(agent.name, ContestAgent(agent.name))
    project = engine.create_project("Docs", "The project's documentation.")
    intro = TaskSpec(
        "Write the README intro", "Two paragraphs on what Orkestra is.", "writing", Priority.HIGH, key="intro"
    )
    (won,) = engine.add_tasks(project.id, [intro])
    engine.set_project_status(project.id, ProjectStatus.ACTIVE)
    engine.set_task_contest(won.id, agents)
    await Scheduler(engine).run()
    guide = TaskSpec("Write the user guide", "A guide to every screen.", "writing", key="guide")
    (later,) = engine.add_tasks(project.id, [guide])
    engine.set_task_contest(later.id, agents)
    return project.id, won.id, later.id

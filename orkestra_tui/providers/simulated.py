"""Offline agents for demo mode, for agents without a key, and for tests.

A simulated agent answers from the structured `context` of a request, with the
same JSON a real model is asked for (plans, ranked ballots with reasoning,
reviews, task results), so everything downstream parses and validates it the
same way. Answers are deterministic for a seed: the random generator for each
call is derived from the seed, the agent, the request and how many times this
agent has seen that same request (so a retry can succeed where the first try
failed).

Personas differ in taste (words in an option that attract them), conformity
(how far they move towards the leader after seeing a tally), strictness as
reviewers, and speed. Together they produce agreement, convergence over rounds,
and ties. In a repository project, a task's result is a set of real changes
(simulated_repo.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orkestra_tui.providers.base import ProviderError, ProviderRequest, ProviderResponse, VendorFacts
from orkestra_tui.providers.simulated_repo import repository_answer, repository_task


@dataclass(frozen=True)
class Persona:
    title: str
    taste: Mapping[str, float]
    conformity: float
    strictness: float
    speed: float
    phases: tuple[str, ...]
    voice: str


PERSONAS: dict[str, Persona] = {
    "architect": Persona(
        title="careful architect",
        taste={
            "test": 0.6,
            "safe": 0.5,
            "typed": 0.45,
            "simple": 0.35,
            "review": 0.35,
            "sqlite": 0.3,
        },
        conformity=0.35,
        strictness=0.45,
        speed=1.0,
        phases=("Foundations", "Core features", "Quality", "Release"),
        voice="it keeps the design sound and the risks visible",
    ),
    "pragmatist": Persona(
        title="pragmatic generalist",
        taste={"simple": 0.55, "fast": 0.5, "ship": 0.45, "popular": 0.4, "python": 0.3},
        conformity=0.6,
        strictness=0.2,
        speed=0.8,
        phases=("Build", "Polish and ship"),
        voice="it gets a working result to users soonest",
    ),
    "researcher": Persona(
        title="data-minded researcher",
        taste={"data": 0.6, "measure": 0.5, "scale": 0.45, "research": 0.4, "postgres": 0.3},
        conformity=0.45,
        strictness=0.3,
        speed=0.9,
        phases=("Research", "Prototype", "Build", "Evaluate"),
        voice="the evidence for it is strongest",
    ),
    "coder": Persona(
        title="hands-on coder",
        taste={"code": 0.55, "tool": 0.45, "typed": 0.35, "fast": 0.35, "rust": 0.3},
        conformity=0.55,
        strictness=0.15,
        speed=0.7,
        phases=("Setup", "Implement", "Test"),
        voice="it is the most direct to implement",
    ),
    "contrarian": Persona(
        title="contrarian",
        taste={"bold": 0.6, "new": 0.5, "risk": 0.35, "rewrite": 0.35, "go": 0.3},
        conformity=0.05,
        strictness=0.35,
        speed=1.15,
        phases=("Spike", "Build", "Harden"),
        voice="the obvious choice hides costs nobody has priced",
    ),
}

TASTE_SCALE = 0.5
"""How much words in an option weigh against chance (0 to 1) and the committee's pull."""

VENDOR_PERSONAS = {
    "anthropic": "architect",
    "openai": "pragmatist",
    "google": "researcher",
    "github": "coder",
    "xai": "contrarian",
}


def persona_for(agent_name: str, vendor: str) -> Persona:
    """The persona of a vendor's agent; other agents get one picked by their name."""
    if vendor in VENDOR_PERSONAS:
        return PERSONAS[VENDOR_PERSONAS[vendor]]
    names = sorted(PERSONAS)
    return PERSONAS[names[_stable_int(agent_name) % len(names)]]


def _stable_int(*parts: object) -> int:
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


class SimulatedProvider(VendorFacts):
    """A provider that never leaves the process.

    Any agent may run simulated (demo mode, no key), so the registry builds this
    one itself, with the agent's own vendor and the simulation settings.
    """

    vendor = "simulated"
    real = False

    def __init__(
        self,
        agent_name: str,
        *,
        vendor: str = "simulated",
        model: str = "",
        seed: int = 0,
        latency_ms: float = 0.0,
        failure_rate: float = 0.0,
        jitter: bool = True,
    ) -> None:
        """`jitter=False` makes every answer take exactly `latency_ms` (benchmarks need a fixed latency)."""
        self.agent_name = agent_name
        self.vendor = vendor
        self.model = f"simulated:{model or agent_name}"
        self.seed = seed
        self.latency_ms = latency_ms
        self.failure_rate = failure_rate
        self.jitter = jitter
        self.persona = persona_for(agent_name, vendor)
        self._seen: Counter[str] = Counter()

    async def aclose(self) -> None:
        """Nothing to close."""

    async def complete(self, request: ProviderRequest) -> ProviderResponse:
        fingerprint = _fingerprint(request)
        self._seen[fingerprint] += 1
        rng = random.Random(_stable_int(self.seed, self.agent_name, fingerprint, self._seen[fingerprint]))
        # Drawn even without jitter, so that the answers stay the same either way.
        spread = 0.6 + 0.8 * rng.random()
        delay = (self.latency_ms * self.persona.speed * spread if self.jitter else self.latency_ms) / 1000.0
        await asyncio.sleep(delay)
        if self.failure_rate and rng.random() < self.failure_rate:
            raise ProviderError("server", "simulated server error (HTTP 503)")
        answer = self._answer(request, rng)
        text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
        prompt_chars = len(request.system) + sum(len(message.content) for message in request.messages)
        stop_reason = "stop"
        if len(text) // 4 > request.max_tokens:
            # As a real model does: the answer stops at the request's token limit, unfinished.
            text, stop_reason = text[: request.max_tokens * 4], "length"
        return ProviderResponse(
            text=text,
            tokens_in=max(1, prompt_chars // 4),
            tokens_out=max(1, len(text) // 4),
            model=self.model,
            stop_reason=stop_reason,
        )

    def _answer(self, request: ProviderRequest, rng: random.Random) -> Any:
        context = request.context
        if request.purpose == "ballot":
            return self.ballot(context, rng)
        if request.purpose == "plan":
            return self.plan(context, rng)
        if request.purpose == "review":
            return self.review(context, rng)
        if request.purpose == "compromise":
            return self.compromise(context)
        if request.purpose == "synthesis":
            return self.synthesis(context)
        if request.purpose == "task":
            return self.task_result(context, rng)
        return "pong" if request.purpose == "ping" else "Understood."

    # ------------------------------------------------------------ answers

    def score(self, option_text: str, rng_seed: int) -> float:
        """How much this persona likes an option before seeing any tally."""
        text = option_text.lower()
        taste = TASTE_SCALE * sum(weight for word, weight in self.persona.taste.items() if word in text)
        noise = (_stable_int(rng_seed, self.agent_name, text) % 1000) / 1000.0
        return taste + noise

    def ballot(self, context: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        options: Sequence[Mapping[str, str]] = context.get("options", ())
        excluded = set(context.get("excluded", ()))
        shares: Mapping[str, float] = context.get("previous_shares", {}) or {}
        # The pull of the committee's lead grows with every round an agent has seen it.
        pull = self.persona.conformity * (1.0 + int(context.get("round", 1)))
        scores: dict[str, float] = {}
        for option in options:
            label = option["label"]
            if label in excluded:
                continue
            score = self.score(option.get("text", label), self.seed)
            score += pull * float(shares.get(label, 0.0))
            scores[label] = score
        ranking = sorted(scores, key=lambda label: (-scores[label], label))
        if self.persona.conformity < 0.1 and len(ranking) > 2:
            ranking = ranking[:2]
        if not ranking:
            return {
                "ranking": [],
                "confidence": 0.0,
                "reasoning": "Every option is excluded for me.",
            }
        gap = scores[ranking[0]] - (scores[ranking[1]] if len(ranking) > 1 else 0.0)
        confidence = round(min(0.95, 0.45 + gap / 2 + rng.random() * 0.1), 2)
        texts = {option["label"]: option.get("text", option["label"]) for option in options}
        first = texts[ranking[0]]
        reasoning = (
            f"As the {self.persona.title}, I put {ranking[0]} ({_clip(first)}) first: {self.persona.voice}."
        )
        if len(ranking) > 1:
            reasoning += f" {ranking[1]} is my second choice."
        reasoning += self._standing(context, ranking[0])
        return {"ranking": ranking, "confidence": confidence, "reasoning": reasoning}

    @staticmethod
    def _standing(context: Mapping[str, Any], first: str) -> str:
        """What this agent makes of last round's tally, as the request states it: a tie is a tie."""
        leaders = [str(label) for label in context.get("leaders", ())]
        names = [*leaders, *(["my own proposal"] if context.get("own_leading") else [])]
        if not names:
            return ""
        count = int(context.get("lead_votes", 0))
        votes = f"{count} vote" if count == 1 else f"{count} votes"
        if len(names) > 1:
            together = f"{', '.join(names[:-1])} and {names[-1]}"
            side = f"I side with {first}." if first in leaders else "I am persuaded by none of them."
            return f" I have seen that {together} are tied at {votes} each; {side}"
        if names[0] != first:
            return f" I have seen that {names[0]} leads with {votes} and I am not yet persuaded."
        return f" I agree with the committee's lead for {first} ({votes} last round)."

    def plan(self, context: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        name = str(context.get("name", "the project"))
        features = [str(feature) for feature in context.get("features", ())] or [
            "core workflow",
            "settings",
        ]
        phases: list[dict[str, Any]] = []
        counter = 0
        previous_keys: list[str] = []
        categories = ("architecture", "code", "tests", "docs")
        for phase_index, phase_name in enumerate(self.persona.phases):
            tasks: list[dict[str, Any]] = []
            assigned = features[phase_index :: len(self.persona.phases)] or [f"{phase_name.lower()} work"]
            for feature in assigned:
                counter += 1
                key = f"t{counter}"
                category = categories[(phase_index + counter) % len(categories)]
                tasks.append(
                    {
                        "key": key,
                        "title": f"{phase_name}: {feature}"[:200],
                        "instructions": (
                            f"For {name}, deliver {feature} ({category}). "
                            f"Work as a {self.persona.title} would: {self.persona.voice}."
                        ),
                        "category": category,
                        "priority": ("high", "normal", "normal", "low")[min(phase_index, 3)],
                        "depends_on": previous_keys[-1:],
                        "acceptance": [f"{feature} works end to end", "covered by a test"],
                    }
                )
            previous_keys = [task["key"] for task in tasks]
            phases.append({"name": phase_name, "tasks": tasks})
        summary = (
            f"{len(phases)} phases for {name}, planned by a {self.persona.title}"
            f" ({rng.choice(['lean', 'steady', 'thorough'])} pace)."
        )
        return {"summary": summary, "phases": phases}

    def review(self, context: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
        roll = rng.random()
        title = _clip(str(context.get("title", "the task")))
        if roll < self.persona.strictness * 0.12:
            return {
                "verdict": "blocker",
                "comments": f"{title}: the result misses a stated requirement.",
            }
        if roll < self.persona.strictness * 0.6:
            return {
                "verdict": "concerns",
                "comments": f"{title}: works, but edge cases need a test.",
            }
        return {"verdict": "approve", "comments": f"{title}: meets the acceptance criteria."}

    def compromise(self, context: Mapping[str, Any]) -> dict[str, Any]:
        leading = [str(text) for text in context.get("leading", ())][:2] or ["both proposals"]
        option = " combined with ".join(_clip(text, 120) for text in leading)
        return {"option": f"Compromise: {option}", "rationale": "Keeps what each side valued most."}

    def synthesis(self, context: Mapping[str, Any]) -> dict[str, Any]:
        """The chosen plan, with one task of another proposal about something the plan lacks adopted.

        What a task is about is its title less any phase name before a colon,
        or its instructions ("Build: sharing" is "Foundations: sharing" under
        another phase's name). The adopted task goes in the phase of the same
        name, else the one at the same place in the plan, and depends on the
        chosen plan's tasks about what its own dependencies were about, or
        else on the tasks of the phase before.
        """
        plan: dict[str, Any] = json.loads(json.dumps(context.get("plan", {})))
        if not plan.get("phases"):
            return plan
        others: list[Mapping[str, Any]] = [
            other for other in context.get("others", ()) if other.get("phases")
        ]
        phase_words = {_words(str(phase["name"])) for item in (plan, *others) for phase in item["phases"]}

        def about(task: Mapping[str, Any]) -> set[str]:
            subject = _subject(str(task["title"]), phase_words)
            return {subject, _words(str(task.get("instructions", "")))} - {""}

        mine = {task["key"]: about(task) for phase in plan["phases"] for task in phase["tasks"]}
        known = set().union(*mine.values())
        place_of = {
            task["key"]: index for index, phase in enumerate(plan["phases"]) for task in phase["tasks"]
        }
        for other in others:
            theirs = {task["key"]: task for phase in other["phases"] for task in phase["tasks"]}
            for place, phase in enumerate(other["phases"]):
                for task in phase["tasks"]:
                    if about(task) & known:
                        continue
                    target = self._phase_for(plan, str(phase["name"]), place, len(other["phases"]))
                    depends = [
                        key
                        for dependency in task.get("depends_on", ())
                        if dependency in theirs
                        for key, subjects in mine.items()
                        if subjects & about(theirs[dependency])
                    ]
                    # Never before what it depends on: a later phase of the plan if one of those is there.
                    target = max([target, *(place_of[key] for key in depends)])
                    if not depends and target > 0:
                        depends = [item["key"] for item in plan["phases"][target - 1]["tasks"]]
                    number = len(mine) + 1
                    while f"adopted-{number}" in mine:
                        number += 1
                    adopted = {**task, "key": f"adopted-{number}", "depends_on": list(dict.fromkeys(depends))}
                    plan["phases"][target]["tasks"].append(adopted)
                    return plan
        return plan

    @staticmethod
    def _phase_for(plan: Mapping[str, Any], name: str, place: int, count: int) -> int:
        """The chosen plan's phase of that name, else the one as far through it as `place` of `count`."""
        names = [_words(str(phase["name"])) for phase in plan["phases"]]
        if _words(name) in names:
            return names.index(_words(name))
        return min(len(names) - 1, place * len(names) // max(count, 1))

    def task_result(self, context: Mapping[str, Any], rng: random.Random) -> str:
        """A task's result: changes in the edit format in a repository project, else a Markdown report."""
        repository = repository_task(context)
        if repository is not None:
            return repository_answer(
                repository, seed=self.seed, agent_name=self.agent_name, persona_title=self.persona.title
            )
        title = str(context.get("title", "Task"))
        steps = rng.randint(2, 4)
        lines = [f"# {title}", "", f"Approach of a {self.persona.title}.", ""]
        lines += [f"{number}. Step {number} of {steps} completed." for number in range(1, steps + 1)]
        return "\n".join(lines) + "\n"


def _fingerprint(request: ProviderRequest) -> str:
    body = json.dumps(
        {"purpose": request.purpose, "context": request.context, "system": request.system},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _words(text: str) -> str:
    """Text reduced to its words, lower case, single spaces."""
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))


def _subject(title: str, phase_words: set[str]) -> str:
    """What a task's title is about: its words, less a leading phase name followed by a colon."""
    prefix, colon, rest = title.partition(":")
    if colon and _words(prefix) in phase_words and _words(rest):
        return _words(rest)
    return _words(title)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

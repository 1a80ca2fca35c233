"""What voters are told about the last round: the tally as it was, a tie as a tie, no false leader."""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from dataclasses import replace
from pathlib import Path

from fakes import ScriptedProvider, ballot_for

from orkestra_tui.config import Settings, SimulationSettings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.models import RoundStatus
from orkestra_tui.engine.voting.committee import TieBreakPolicy, first_preferences, labels_for
from orkestra_tui.providers.base import ProviderRequest
from orkestra_tui.providers.simulated import SimulatedProvider

OPTIONS = ["Keep SQLite", "Move to PostgreSQL", "Plain files"]


def second_round_requests(
    engine: Engine, votes: dict[str, str], **rules: object
) -> dict[str, ProviderRequest]:
    """Each voter's request for round 2, after a first round where each voted as `votes` says."""
    providers = {name: ScriptedProvider(ballot_for(option)) for name, option in votes.items()}
    for name, provider in providers.items():
        engine.use_provider(name, provider)
    decision = engine.open_decision(
        "Where should the ledger live?",
        OPTIONS,
        voters=list(votes),
        max_rounds=2,
        **rules,  # type: ignore[arg-type]  # open_decision()'s keywords, by name
    )
    asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST, resolution=("fallback",)))
    return {
        name: next(request for request in provider.requests if request.context["round"] == 2)
        for name, provider in providers.items()
    }


def label_in(request: ProviderRequest, option: str) -> str:
    label: str = next(item["label"] for item in request.context["options"] if item["text"] == option)
    return label


def test_a_tied_round_is_told_as_a_tie_with_its_counts(engine: Engine) -> None:
    votes = {"claude": OPTIONS[0], "chatgpt": OPTIONS[0], "gemini": OPTIONS[1], "copilot": OPTIONS[1]}
    for request in second_round_requests(engine, votes, method="majority").values():
        prompt = request.messages[0].content
        first, second, third = (label_in(request, option) for option in OPTIONS)
        tied = " and ".join(sorted((first, second)))
        assert f"{tied} are tied at 2 votes each." in prompt
        assert f"{first} 2 votes (50%)" in prompt and f"{second} 2 votes (50%)" in prompt
        assert f"{third} 0 votes (0%)" in prompt
        assert "lead" not in prompt
        assert sorted(request.context["leaders"]) == sorted((first, second))
        assert request.context["lead_votes"] == 2


def test_an_untied_round_names_its_leader_with_its_count(engine: Engine) -> None:
    votes = {"claude": OPTIONS[0], "chatgpt": OPTIONS[0], "gemini": OPTIONS[0], "copilot": OPTIONS[1]}
    for request in second_round_requests(engine, votes, method="unanimous").values():
        prompt = request.messages[0].content
        leader = label_in(request, OPTIONS[0])
        assert f"{leader} leads with 3 votes." in prompt
        assert f"{label_in(request, OPTIONS[1])} 1 vote (25%)" in prompt
        assert "tied" not in prompt
        assert request.context["leaders"] == [leader]


def test_a_tie_with_the_voters_own_proposal_is_still_a_tie(engine: Engine) -> None:
    votes = {"claude": OPTIONS[1], "chatgpt": OPTIONS[0], "gemini": OPTIONS[1], "copilot": OPTIONS[0]}
    requests = second_round_requests(engine, votes, method="majority", authors={OPTIONS[0]: "claude"})
    prompt = requests["claude"].messages[0].content
    other = label_in(requests["claude"], OPTIONS[1])
    assert f"{other} and your own proposal are tied at 2 votes each." in prompt
    assert "lead" not in prompt
    assert requests["claude"].context["own_leading"] is True


def test_the_standing_sentence() -> None:
    from orkestra_tui.engine.agents.prompts import leaders_of, standing

    assert standing(*leaders_of({"A": 3, "B": 3, "C": 0})) == "A and B are tied at 3 votes each."
    assert standing(*leaders_of({"A": 1, "B": 1, "C": 1})) == "A, B and C are tied at 1 vote each."
    assert standing(*leaders_of({"A": 1, "B": 4})) == "B leads with 4 votes."
    assert standing(*leaders_of({"A": 0, "B": 0})) == "Nobody ranked an option first."


def test_a_simulated_agent_calls_a_tie_a_tie() -> None:
    agent = SimulatedProvider("claude", vendor="anthropic", seed=3)
    context = {
        "round": 2,
        "options": [{"label": label, "text": f"option {label}"} for label in "ABC"],
        "previous_shares": {"A": 0.5, "B": 0.5},
        "previous_counts": {"A": 3, "B": 3, "C": 0},
        "leaders": ["A", "B"],
        "lead_votes": 3,
    }
    reasoning = agent.ballot(context, random.Random(1))["reasoning"]
    assert "A and B are tied at 3 votes each" in reasoning
    assert "leads" not in reasoning and "lead for" not in reasoning


def test_simulated_committees_never_name_a_leader_that_is_not_one(tmp_path: Path) -> None:
    seen_ties = seen_leads = 0
    for seed in range(25):
        settings = replace(Settings(), simulation=SimulationSettings(seed=seed, latency_ms=0))
        engine = Engine(resolve_paths(tmp_path / f"seed-{seed}"), settings, env={})
        decision = engine.open_decision(
            "Which database should back the ledger?", [*OPTIONS, "A bold rewrite"]
        )
        asyncio.run(engine.decide(decision.id, tie_break=TieBreakPolicy.FIRST, resolution=("fallback",)))
        rounds = [item for item in engine.store.rounds(decision.id) if item.status is RoundStatus.CLOSED]
        for previous, current in itertools.pairwise(rounds):
            firsts = first_preferences(engine.store.ballots(decision.id, previous.round))
            top = max(firsts.values())
            leaders = [option for option in previous.options if firsts[option] == top]
            option_of = labels_for(decision, current.round, current.options)
            for ballot in engine.store.ballots(decision.id, current.round):
                named = re.findall(r"I have seen that (\w+) leads|lead for (\w+)", ballot.reasoning)
                named = [label for pair in named for label in pair if label]
                if len(leaders) > 1:
                    seen_ties += 1
                    assert not named and "lead for" not in ballot.reasoning, (seed, ballot.reasoning)
                else:
                    seen_leads += bool(named)
                    assert all(option_of[label] == leaders[0] for label in named), (seed, ballot.reasoning)
        engine.close()
    assert seen_ties and seen_leads

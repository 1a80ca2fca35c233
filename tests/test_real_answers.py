"""Answers real small models gave, through the real OpenAI SDK against the wire fake.

Local instruct models served on 127.0.0.1 (an OpenAI-compatible server, the `ollama` provider
here) wrote plans with `"priority": "medium"` and a category of "development", echoed the plan
template back with `"..."` for every text, ranked options by their text ("SQLite") instead of
their label, and added a key of their own beside a review's verdict. Each answer here is one
of theirs, word for word where the issue quotes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orkestra_tui.bench.fake_api import Received, Reply, WireFake, serving
from orkestra_tui.cli import main
from orkestra_tui.config import load_settings, resolve_paths
from orkestra_tui.engine.engine import Engine
from orkestra_tui.engine.execution.review import Review, decide, review
from orkestra_tui.engine.models import Priority, TaskSpec

PLACEHOLDER_PLAN = (
    '{"summary":"...","phases":[{"name":"...","tasks":[{"title":"...","instructions":"...",'
    '"acceptance":["..."]}]}]}'
)
"""The answer that passed as a plan in every real planning run that "succeeded" (issue 15)."""
ECHOED_TEMPLATE = (
    '{"summary": "...", "phases": [{"name": "...", "tasks": [{"key": "t1", "title": "...", '
    '"instructions": "...", "category": "code", "priority": "normal", "depends_on": [], '
    '"acceptance": ["..."]}]}]}'
)
"""The old plan prompt's example, sent back as it was."""
REVIEW_WITH_EXTRA_KEY = '{"verdict":"approve","concerns":"","comments":""}'


def real_plan() -> str:
    """A plan as a small model wrote it: words of its own for the enums, in any case."""

    def task(key: str, title: str, category: str, priority: str, depends_on: list[str]) -> dict[str, Any]:
        return {
            "key": key,
            "title": title,
            "instructions": f"{title} for the notes app.",
            "category": category,
            "priority": priority,
            "depends_on": depends_on,
            "acceptance": [f"{title.lower()} works"],
        }

    return json.dumps(
        {
            "summary": "A command-line notes app in Python, stored in SQLite.",
            "phases": [
                {"name": "Setup", "tasks": [task("t1", "Create the package", "Setup", "High", [])]},
                {
                    "name": "Development",
                    "tasks": [
                        task("t2", "Store notes in SQLite", "development", "medium", ["t1"]),
                        task("t3", "Add the search command", "Implementation", "Medium", ["t2"]),
                    ],
                },
                {
                    "name": "Testing",
                    "tasks": [
                        task("t4", "Test the storage", "testing", "medium", ["t2"]),
                        task("t5", "Write the README", "Documentation", "nice-to-have", ["t3"]),
                    ],
                },
            ],
        }
    )


class LocalModel:
    """Answers each request by its purpose (told by its system prompt), in turn, the last repeated."""

    def __init__(self, **answers: list[str] | Callable[[Received], str]) -> None:
        self.answers = answers
        self.asked: dict[str, list[Received]] = {}

    def __call__(self, received: Received) -> Reply:
        system = received.body["messages"][0]["content"]
        purpose = next(
            name
            for name, start in (
                ("synthesis", "You chair"),
                ("plan", "You are one member of a committee of AI agents planning"),
                ("ballot", "You are one member of a committee of AI agents deciding"),
                ("review", "You review"),
                ("compromise", "You mediate"),
            )
            if system.startswith(start)
        )
        asked = self.asked.setdefault(purpose, [])
        asked.append(received)
        script = self.answers.get(purpose)
        if script is None:
            return Reply(status=400, body={"error": {"message": f"this test asks for no {purpose}"}})
        text = script(received) if callable(script) else script[min(len(asked), len(script)) - 1]
        return Reply(text=text)


def last_user_message(received: Received) -> str:
    return str(received.body["messages"][-1]["content"])


@pytest.fixture
def fake() -> Iterator[WireFake]:
    with serving() as server:
        yield server


def local_home(tmp_path: Path, fake: WireFake, *names: str) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    agents = "".join(
        f'[[agents]]\nname = "{name}"\nprovider = "ollama"\nmodel = "qwen2.5-coder-0.5b-instruct"\n'
        f'base_url = "{fake.url}/v1"\n\n'
        for name in names
    )
    (home / "config.toml").write_text(f"[engine]\nmax_attempts = 1\n\n{agents}", encoding="utf-8")
    return home


def orkestra(capsys: pytest.CaptureFixture[str], home: Path, *arguments: str) -> tuple[int, str, str]:
    status = main([arguments[0], "--data-dir", str(home), *arguments[1:]])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def open_engine(home: Path) -> Engine:
    return Engine(resolve_paths(home), load_settings(home / "config.toml"), env={})


# ------------------------------------------------------------------- plans


def test_a_plan_in_the_models_own_words_for_priority_and_category_is_taken(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: WireFake
) -> None:
    fake.responder = model = LocalModel(plan=[real_plan()])
    home = local_home(tmp_path, fake, "qwen")
    status, out, err = orkestra(
        capsys,
        home,
        "plan",
        "--name",
        "Notes",
        "--description",
        "A notes app.",
        "--involvement",
        "1",
        "--json",
    )
    assert status == 0, err
    assert len(model.asked["plan"]) == 1  # taken as it came: no repair
    engine = open_engine(home)
    try:
        tasks = {task.title: task for task in engine.tasks(1)}
    finally:
        engine.close()
    assert {title: (task.category, task.priority) for title, task in tasks.items()} == {
        "Create the package": ("ops", Priority.HIGH),
        "Store notes in SQLite": ("code", Priority.NORMAL),
        "Add the search command": ("code", Priority.NORMAL),
        "Test the storage": ("tests", Priority.NORMAL),
        "Write the README": ("docs", Priority.LOW),
    }
    prompt = last_user_message(model.asked["plan"][0])
    assert "category is one of architecture, code, tests, docs, research, review, data, design, ops" in prompt
    assert "priority is one of critical, high, normal, low" in prompt
    assert json.loads(out)["approved"] is True


@pytest.mark.parametrize("answer", [PLACEHOLDER_PLAN, ECHOED_TEMPLATE], ids=["issue", "template"])
def test_a_placeholder_plan_is_refused_and_never_approved(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: WireFake, answer: str
) -> None:
    fake.responder = model = LocalModel(plan=[answer])
    home = local_home(tmp_path, fake, "qwen")
    status, out, err = orkestra(
        capsys,
        home,
        "plan",
        "--name",
        "Notes",
        "--description",
        "A notes app.",
        "--involvement",
        "1",
        "--yes",
        "--json",
    )
    assert status == 1
    document = json.loads(out)
    assert (document["approved"], document["step"]) == (False, "proposals")
    (proposal,) = document["proposals"]
    assert not proposal["ok"] and "invalid plan twice" in proposal["reason"]
    assert "$.summary is a placeholder" in proposal["reason"]
    assert "no agent produced a valid plan" in err
    repair = last_user_message(model.asked["plan"][1])
    assert '$.phases[0].tasks[0].title is a placeholder ("...")' in repair
    assert "priority is one of critical, high, normal, low" in repair
    assert 'never a placeholder such as "...", "string", "TODO" or "<title>"' in repair
    engine = open_engine(home)
    try:
        assert engine.tasks(1) == []
    finally:
        engine.close()


def first_label(received: Received) -> str:
    """A ballot for the first option shown, by its label."""
    match = re.search(r"^Options:\n([A-Z]+): ", last_user_message(received), re.MULTILINE)
    assert match is not None
    return json.dumps({"ranking": [match.group(1)], "confidence": 0.6, "reasoning": "It is complete."})


def test_a_placeholder_refinement_leaves_the_chosen_plan_standing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: WireFake
) -> None:
    fake.responder = LocalModel(plan=[real_plan()], ballot=first_label, synthesis=[ECHOED_TEMPLATE])
    home = local_home(tmp_path, fake, "qwen", "smol")
    status, out, err = orkestra(
        capsys,
        home,
        "plan",
        "--name",
        "Notes",
        "--description",
        "A notes app.",
        "--involvement",
        "1",
        "--tie-break",
        "first",
        "--json",
    )
    assert status == 0, err
    document = json.loads(out)
    assert document["approved"] is True and document["changes"] == []
    assert [task["title"] for phase in document["phases"] for task in phase["tasks"]][:2] == [
        "Create the package",
        "Store notes in SQLite",
    ]
    assert "gave no usable refinement; the chosen plan stands" in err


# ----------------------------------------------------------------- ballots


def by_text(text: str) -> Callable[[Received], str]:
    return lambda _received: json.dumps({"ranking": [text], "confidence": 0.9, "reasoning": "Simple."})


def test_a_ballot_naming_the_option_by_its_text_counts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: WireFake
) -> None:
    fake.responder = model = LocalModel(ballot=by_text("SQLite"))
    home = local_home(tmp_path, fake, "qwen", "smol", "tiny")
    options = ("--option", "SQLite", "--option", "PostgreSQL", "--option", "Flat JSON files")
    status, _out, err = orkestra(
        capsys, home, "vote", "Which storage?", *options, "--method", "plurality", "--json"
    )
    assert status == 0, err
    assert len(model.asked["ballot"]) == 3  # no repair was needed
    engine = open_engine(home)
    try:
        ballots = engine.store.ballots(1, 1)
        decision = engine.store.decision(1)
    finally:
        engine.close()
    assert [(ballot.ranking, ballot.abstain_reason) for ballot in ballots] == [(("SQLite",), "")] * 3
    assert decision is not None and decision.outcome is not None
    assert decision.outcome["winner"] == "SQLite"


def test_a_ballot_repair_restates_the_valid_labels_and_their_options(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: WireFake
) -> None:
    fake.responder = model = LocalModel(ballot=by_text("MongoDB"))
    home = local_home(tmp_path, fake, "qwen")
    options = ("--option", "SQLite", "--option", "PostgreSQL")
    orkestra(capsys, home, "vote", "Which storage?", *options, "--rounds", "1", "--tie-break", "fail")
    first, repair = model.asked["ballot"]
    labels = dict(re.findall(r"^([A-Z]): (\w+)$", last_user_message(first), re.MULTILINE))
    assert sorted(labels.values()) == ["PostgreSQL", "SQLite"]
    message = last_user_message(repair)
    assert message.startswith(
        "That answer could not be used: ranked 'MongoDB', which is not one of the labels"
    )
    listed = "; ".join(f"{label} = {option}" for label, option in labels.items())
    assert f"The valid labels are {listed}." in message


@pytest.mark.parametrize(
    ("template", "refusal"),
    [
        (
            '{"option": "<the compromise, one sentence>", "rationale": "<why>"}',
            'the option "<the compromise, one sentence>" is a placeholder',
        ),
        # SmolLM2's answer, once the ballots had shown it letters.
        (
            '{"option": "B", "rationale": "B is the best choice"}',
            'the option "B" is too short to be a compromise',
        ),
    ],
)
def test_a_placeholder_compromise_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fake: WireFake, template: str, refusal: str
) -> None:
    split = {"qwen": "SQLite", "smol": "PostgreSQL"}
    fake.responder = model = LocalModel(
        ballot=lambda received: by_text(split[str(received.body["model"])])(received), compromise=[template]
    )
    home = tmp_path / "home"
    home.mkdir()
    agents = "".join(
        f'[[agents]]\nname = "{name}"\nprovider = "ollama"\nmodel = "{name}"\nbase_url = "{fake.url}/v1"\n\n'
        for name in split
    )
    (home / "config.toml").write_text(f"[engine]\nmax_attempts = 1\n\n{agents}", encoding="utf-8")
    options = ("--option", "SQLite", "--option", "PostgreSQL")
    status, _out, err = orkestra(
        capsys,
        home,
        "vote",
        "Which storage?",
        *options,
        "--method",
        "plurality",
        "--rounds",
        "1",
        "--tie-break",
        "first",
    )
    assert status == 0, err
    _first, repair = model.asked["compromise"]
    message = last_user_message(repair)
    assert message.startswith(f"That answer could not be used: {refusal}")
    assert "not an option already on the table and not a placeholder" in message
    engine = open_engine(home)
    try:
        decision = engine.store.decision(1)
    finally:
        engine.close()
    assert decision is not None and list(decision.options) == ["SQLite", "PostgreSQL"]


# ----------------------------------------------------------------- reviews


async def test_a_review_with_an_extra_key_keeps_its_verdict(
    tmp_path: Path, fake: WireFake, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.responder = model = LocalModel(
        review=[REVIEW_WITH_EXTRA_KEY, '{"verdict":"concerns","comments":""}']
    )
    engine = open_engine(local_home(tmp_path, fake, "qwen"))
    try:
        project = engine.create_project("Notes", "A notes app.")
        (task,) = engine.add_tasks(project.id, [TaskSpec(title="Store notes", instructions="Use SQLite.")])
        reviews = await review(engine, task, "notes.py stores notes in SQLite.", "A notes app.", ["qwen"])
        assert reviews == [Review("qwen", "approve", "")]
        assert len(model.asked["review"]) == 1  # nothing to repair, so nothing to flip
        assert decide(reviews, already_retried=False).kind == "done"
    finally:
        await engine.aclose()

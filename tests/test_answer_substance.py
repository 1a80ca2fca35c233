"""Judging a model's answer on substance: synonyms, unknown keys, placeholders, options by text,
a verdict kept, and repair messages that restate what is valid."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from fakes import ScriptedProvider, answers, plan_for

from orkestra_tui.engine.agents.answers import (
    BALLOT_SCHEMA,
    COMPROMISE_SCHEMA,
    PLAN_SCHEMA,
    REVIEW_SCHEMA,
    AnswerError,
    is_placeholder,
    parse_answer,
)
from orkestra_tui.engine.agents.prompts import (
    Presentation,
    RoundContext,
    ballot_request,
    compromise_request,
    named_option,
    plan_request,
    repair_request,
)
from orkestra_tui.engine.engine import Engine, EngineError
from orkestra_tui.engine.execution.review import Review, review, review_request
from orkestra_tui.engine.models import Involvement, Task, TaskSpec
from orkestra_tui.engine.planning.planning import Brief, Planner, PlanStep, check_plan
from orkestra_tui.engine.voting.committee import Committee
from orkestra_tui.providers.base import ProviderRequest

TEMPLATE = {
    "summary": "...",
    "phases": [
        {
            "name": "...",
            "tasks": [
                {
                    "key": "t1",
                    "title": "...",
                    "instructions": "...",
                    "category": "code",
                    "priority": "normal",
                    "depends_on": [],
                    "acceptance": ["..."],
                }
            ],
        }
    ],
}


def plan_with_task(**task: Any) -> dict[str, Any]:
    plan = plan_for("qwen")
    plan["phases"][0]["tasks"][0].update(task)
    return plan


# ------------------------------------------------------------------ enums


@pytest.mark.parametrize(
    ("field", "given", "taken"),
    [
        ("priority", "medium", "normal"),
        ("priority", "Medium", "normal"),
        ("priority", " HIGH ", "high"),
        ("priority", "urgent", "critical"),
        ("priority", "nice-to-have", "low"),
        ("category", "testing", "tests"),
        ("category", "Test", "tests"),
        ("category", "development", "code"),
        ("category", "dev", "code"),
        ("category", "Implementation", "code"),
        ("category", "documentation", "docs"),
        ("category", "CI/CD", "ops"),
        ("category", "UI_UX", "design"),
        ("category", "Architecture", "architecture"),
    ],
)
def test_a_plan_enum_is_taken_in_any_case_or_by_a_synonym(field: str, given: str, taken: str) -> None:
    plan = parse_answer(json.dumps(plan_with_task(**{field: given})), PLAN_SCHEMA)
    assert plan["phases"][0]["tasks"][0][field] == taken


def test_an_unknown_enum_value_is_refused_with_the_allowed_values() -> None:
    with pytest.raises(AnswerError) as refused:
        parse_answer(json.dumps(plan_with_task(priority="whenever")), PLAN_SCHEMA)
    assert (
        '$.phases[0].tasks[0].priority is "whenever"; it should be one of critical, high, normal, low'
        in str(refused.value)
    )


@pytest.mark.parametrize(
    ("given", "taken"), [("Approve", "approve"), ("approved", "approve"), ("BLOCKED", "blocker")]
)
def test_a_verdict_is_taken_in_any_case_or_by_a_synonym(given: str, taken: str) -> None:
    assert parse_answer(json.dumps({"verdict": given, "comments": ""}), REVIEW_SCHEMA)["verdict"] == taken


# ------------------------------------------------------------ unknown keys


@pytest.mark.parametrize(
    ("schema", "answer", "expected"),
    [
        (
            REVIEW_SCHEMA,
            {"verdict": "approve", "concerns": "", "comments": ""},
            {"verdict": "approve", "comments": ""},
        ),
        (
            BALLOT_SCHEMA,
            {"ranking": ["A"], "confidence": 0.5, "reasoning": "r", "vote": "A"},
            {"ranking": ["A"], "confidence": 0.5, "reasoning": "r"},
        ),
        (
            COMPROMISE_SCHEMA,
            {"option": "SQLite now, PostgreSQL later", "rationale": "both", "confidence": 1},
            {"option": "SQLite now, PostgreSQL later", "rationale": "both"},
        ),
    ],
)
def test_unknown_keys_are_ignored(
    schema: dict[str, Any], answer: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert parse_answer(json.dumps(answer), schema) == expected


def test_a_key_is_taken_in_any_case_unless_both_spellings_are_there() -> None:
    answer = {"Verdict": "approve", "COMMENTS": "fine"}
    assert parse_answer(json.dumps(answer), REVIEW_SCHEMA) == {"verdict": "approve", "comments": "fine"}
    both = {"verdict": "concerns", "Verdict": "approve", "comments": ""}
    assert parse_answer(json.dumps(both), REVIEW_SCHEMA) == {"verdict": "concerns", "comments": ""}


def test_unknown_keys_are_ignored_inside_a_plan_too() -> None:
    plan = plan_for("qwen")
    plan["notes"] = "extra"
    plan["phases"][0]["goal"] = "extra"
    plan["phases"][0]["tasks"][0]["estimate"] = "2h"
    assert parse_answer(json.dumps(plan), PLAN_SCHEMA) == plan_for("qwen")


# ----------------------------------------------------------- placeholders


@pytest.mark.parametrize(
    "text",
    ["", "  ", "...", "…", "-", "string", "TODO", "todo", "TBD", "N/A", "<title>", "{name}", "Task title"],
)
def test_a_placeholder_is_seen(text: str) -> None:
    assert is_placeholder(text)


@pytest.mark.parametrize("text", ["Set up the repository", "SQLite", "Write the API", "t1 works"])
def test_real_text_is_not_a_placeholder(text: str) -> None:
    assert not is_placeholder(text)


def test_the_template_echoed_back_is_no_plan() -> None:
    plan = parse_answer(json.dumps(TEMPLATE), PLAN_SCHEMA)  # it fits the schema...
    problem = check_plan(plan)  # ...but holds no real task
    assert problem.startswith(
        'the plan has no real task, only placeholders: $.summary is a placeholder ("...")'
    )
    assert problem.endswith("(and 2 more)")


def test_one_placeholder_among_real_texts_is_named() -> None:
    problem = check_plan(plan_with_task(acceptance=["it works", "TODO"]))
    assert problem == (
        "the plan has placeholders, not real text: "
        '$.phases[0].tasks[0].acceptance[1] is a placeholder ("TODO")'
    )


def test_a_plan_request_lists_the_allowed_values_and_the_repair_restates_them() -> None:
    request = plan_request(Brief(name="Notes", description="A notes app."), ())
    prompt = request.messages[-1].content
    assert "category is one of architecture, code, tests, docs, research, review, data, design, ops" in prompt
    assert "priority is one of critical, high, normal, low" in prompt
    repair = repair_request(request, json.dumps(TEMPLATE), check_plan(TEMPLATE)).messages[-1].content
    assert repair.startswith("That answer could not be used: the plan has no real task, only placeholders: ")
    assert (
        "category is one of architecture, code, tests" in repair and "priority is one of critical" in repair
    )


async def test_a_placeholder_plan_stored_at_review_is_never_approved(engine: Engine) -> None:
    planner = Planner(engine)
    session = planner.start(
        Brief(name="Notes", description="A notes app.", involvement=Involvement.HANDS_OFF, agents=("claude",))
    )
    # As a plan accepted before placeholders were refused would be stored.
    planner._save(replace(session, step=PlanStep.REVIEW, plan=TEMPLATE), "plan.synthesized", "stored earlier")
    with pytest.raises(EngineError, match="the plan has no real task to approve"):
        planner.approve(session.project_id)
    with pytest.raises(EngineError, match="the plan has no real task to approve"):
        await planner.advance(session.project_id)  # hands-off approves at once: not this one
    assert engine.tasks(session.project_id) == []


# ---------------------------------------------------------------- ballots

LABELS = {"A": "SQLite: one file, no server", "B": "PostgreSQL (a server)", "C": "Plan C: flat JSON files"}


@pytest.mark.parametrize(
    ("named", "option"),
    [
        ("B", "PostgreSQL (a server)"),
        (" b ", "PostgreSQL (a server)"),
        ("sqlite: one file,  NO server", "SQLite: one file, no server"),
        ("SQLite", "SQLite: one file, no server"),
        ('"PostgreSQL".', "PostgreSQL (a server)"),
        ("Option A", "SQLite: one file, no server"),
        ("(c)", "Plan C: flat JSON files"),
        ("A: SQLite", "SQLite: one file, no server"),
        ("Plan C", "Plan C: flat JSON files"),
        ("MongoDB", None),
        ("A: PostgreSQL", None),
        ("Z", None),
    ],
)
def test_an_option_is_named_by_label_or_unambiguously_by_text(named: str, option: str | None) -> None:
    assert named_option(named, LABELS) == option


def test_a_name_two_options_share_names_neither() -> None:
    labels = {"A": "SQLite: embedded", "B": "SQLite: with WAL"}
    assert named_option("SQLite", labels) is None
    assert named_option("sqlite: with wal", labels) == "SQLite: with WAL"


def test_a_ballot_naming_its_own_proposal_is_told_so() -> None:
    presentation = Presentation(labels={"A": "PostgreSQL"}, excluded=("SQLite",))
    ranking, problem = Committee._ranking({"ranking": ["SQLite"]}, presentation)
    assert (ranking, problem) == ((), "ranked 'SQLite', its own proposal, which is not on its ballot")
    assert Committee._ranking({"ranking": ["postgresql", "A"]}, presentation) == ((), "ranked 'A' twice")


def test_a_ballot_repair_restates_the_labels_with_their_options() -> None:
    presentation = Presentation(labels={"B": "PostgreSQL", "A": "SQLite " + "x" * 200}, excluded=())
    context = RoundContext(
        question="Which storage?", round=1, max_rounds=3, previous_shares={}, excerpts=(), feedback=()
    )
    request = ballot_request(presentation, context)
    assert "Rank the options by their labels (B, A), best first." in request.messages[-1].content
    repair = repair_request(
        request, '{"ranking": ["MongoDB"]}', "ranked 'MongoDB', which is not one of the labels shown"
    )
    message = repair.messages[-1].content
    assert message.startswith(
        "That answer could not be used: ranked 'MongoDB', which is not one of the labels shown. "
    )
    assert f"The valid labels are B = PostgreSQL; A = SQLite {'x' * 112}…." in message
    assert message.endswith("Answer again with the JSON only.")


def test_review_and_compromise_repairs_restate_what_is_valid(engine: Engine) -> None:
    request = review_request(stored_task(engine), "done", "")
    repair = repair_request(request, "{}", "$.verdict is missing").messages[-1].content
    assert 'Give {"verdict": one of approve, concerns, blocker, "comments": text}.' in repair
    compromise = compromise_request("Which storage?", {"SQLite": 0.5, "PostgreSQL": 0.5}, ())
    repair = repair_request(compromise, "{}", "$.option is missing").messages[-1].content
    assert "not an option already on the table and not a placeholder" in repair


# ---------------------------------------------------------------- reviews


def stored_task(engine: Engine) -> Task:
    project = engine.create_project("Notes", "A notes app.")
    (task,) = engine.add_tasks(project.id, [TaskSpec(title="Store notes", instructions="Use SQLite.")])
    return task


@pytest.mark.parametrize(
    ("first_answer", "expected"),
    [
        ('{"verdict": "approve", "concerns": "", "comments": ""}', Review("grok", "approve", "")),
        ('{"verdict": "approve"}', Review("grok", "approve", "")),
        (
            '{"verdict": "Approve", "comments": ["clear", "tested"]}',
            Review("grok", "approve", "clear; tested"),
        ),
        (
            '{"verdict": "concerns", "comments": {"missing": "tests"}}',
            Review("grok", "concerns", '{"missing": "tests"}'),
        ),
        (
            '{"verdict": "approve", "concerns": "no tests for the edge cases", "comments": "works"}',
            Review("grok", "approve", "works; concerns: no tests for the edge cases"),
        ),
        (
            '{"verdict": "concerns", "issues": ["no README", " "], "notes": "", "score": 3}',
            Review("grok", "concerns", "issues: no README"),
        ),
    ],
)
async def test_a_valid_verdict_is_kept_without_a_repair(
    engine: Engine, first_answer: str, expected: Review
) -> None:
    grok = ScriptedProvider(answers(first_answer, '{"verdict": "blocker", "comments": "flipped"}'))
    engine.use_provider("grok", grok)
    assert await review(engine, stored_task(engine), "result", "", ["grok"]) == [expected]
    assert len(grok.requests) == 1


async def test_without_a_valid_verdict_the_repair_decides(engine: Engine) -> None:
    grok = ScriptedProvider(
        answers('{"verdict": "maybe"}', '{"verdict": "concerns", "comments": "no tests"}')
    )
    engine.use_provider("grok", grok)
    assert await review(engine, stored_task(engine), "result", "", ["grok"]) == [
        Review("grok", "concerns", "no tests")
    ]
    repair = grok.requests[1].messages[-1].content
    assert repair.startswith("That answer could not be used: answer does not match the schema: ")
    assert '$.verdict is "maybe"; it should be one of approve, concerns, blocker' in repair
    assert "one of approve, concerns, blocker" in repair


def test_the_plan_prompt_example_is_itself_refused_as_placeholders() -> None:
    prompt = plan_request(Brief(name="Notes", description="A notes app."), ()).messages[-1].content
    example = json.loads(prompt.split("Answer as JSON: ", 1)[1].split("\n", 1)[0])
    assert check_plan(parse_answer(json.dumps(example), PLAN_SCHEMA)).startswith("the plan has no real task")


async def test_a_review_echoing_the_prompts_comment_slot_has_no_comments(engine: Engine) -> None:
    echoed = '{"verdict": "concerns", "comments": "<what is missing or wrong, briefly>"}'
    engine.use_provider("grok", ScriptedProvider(answers(echoed)))
    assert await review(engine, stored_task(engine), "result", "", ["grok"]) == [
        Review("grok", "concerns", "")
    ]


async def test_a_ballot_echoing_the_prompts_reasoning_slot_has_no_reasoning(engine: Engine) -> None:
    def by_text(request: ProviderRequest, _index: int) -> str:
        return json.dumps(
            {"ranking": ["SQLite"], "confidence": 0.5, "reasoning": "<why, in a few sentences>"}
        )

    engine.use_provider("grok", ScriptedProvider(by_text))
    decision = engine.open_decision(
        "Which storage?", ["SQLite", "PostgreSQL"], method="plurality", max_rounds=1
    )
    await engine.decide(decision.id, tie_break="first")
    grok = next(ballot for ballot in engine.store.ballots(decision.id, 1) if ballot.voter == "grok")
    assert (grok.ranking, grok.reasoning, grok.abstain_reason) == (("SQLite",), "", "")


@pytest.mark.parametrize(
    ("ranking", "counted", "abstain_reason"),
    [
        # SmolLM2's ballots: the example's slot first, then its real choice.
        (["<label>", "SQLite"], ("SQLite",), ""),
        ([], (), "abstained: ranked no option"),
    ],
)
async def test_a_ballot_ranking_the_examples_slot_or_nothing(
    engine: Engine, ranking: list[str], counted: tuple[str, ...], abstain_reason: str
) -> None:
    def answer(_request: ProviderRequest, _index: int) -> str:
        return json.dumps({"ranking": ranking, "confidence": 0.5, "reasoning": "Simple and safe."})

    engine.use_provider("grok", ScriptedProvider(answer))
    decision = engine.open_decision(
        "Which storage?", ["SQLite", "PostgreSQL"], method="plurality", max_rounds=1
    )
    await engine.decide(decision.id, tie_break="first")
    grok = next(ballot for ballot in engine.store.ballots(decision.id, 1) if ballot.voter == "grok")
    assert (grok.ranking, grok.abstain_reason) == (counted, abstain_reason)


async def test_a_plan_whose_tasks_were_all_deleted_in_review_is_not_approved(engine: Engine) -> None:
    planner = Planner(engine)
    session = planner.start(Brief(name="Shop", description="A shop.", agents=("claude",)))
    reviewed = await planner.advance(session.project_id)
    assert reviewed.step is PlanStep.REVIEW and reviewed.plan is not None
    for key in [task["key"] for phase in reviewed.plan["phases"] for task in phase["tasks"]]:
        planner.delete_task(session.project_id, key)
    with pytest.raises(EngineError, match="the plan has no real task to approve"):
        planner.approve(session.project_id)
    assert planner.session(session.project_id).step is PlanStep.REVIEW

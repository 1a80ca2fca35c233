"""Parsing model output: find the JSON, validate it, and name every problem."""

from __future__ import annotations

import pytest

from orkestra_tui.engine.agents.answers import (
    BALLOT_SCHEMA,
    AnswerError,
    extract_json,
    parse_answer,
    validate,
)


@pytest.mark.parametrize(
    "text",
    [
        '{"ranking": ["A"], "confidence": 0.5, "reasoning": "r"}',
        'Sure! Here is my ballot:\n```json\n{"ranking": ["A"], "confidence": 0.5, "reasoning": "r"}\n```',
        'I think {"ranking": ["A"], "confidence": 0.5, "reasoning": "r"} is right.',
    ],
)
def test_json_is_found_bare_fenced_or_in_prose(text: str) -> None:
    assert parse_answer(text, BALLOT_SCHEMA)["ranking"] == ["A"]


@pytest.mark.parametrize("text", ["", "   ", "no json here", "{broken", "[1, 2]"])
def test_garbage_is_an_answer_error(text: str) -> None:
    with pytest.raises(AnswerError):
        parse_answer(text, BALLOT_SCHEMA)


def test_every_problem_is_named() -> None:
    problems = validate({"ranking": "A", "confidence": 2, "extra": 1}, BALLOT_SCHEMA)
    assert problems == [
        "$.reasoning is missing",
        "$.ranking should be array, not string",
        "$.confidence should be at most 1",
        "$.extra is not expected",
    ]


def test_extract_json_prefers_the_first_object() -> None:
    assert extract_json('{"a": 1} then {"b": 2}') == {"a": 1}

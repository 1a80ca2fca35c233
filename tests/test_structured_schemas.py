"""Our answer schemas in each vendor's structured-output dialect, and which models take which path."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from orkestra_tui.bench.fake_structured import structured_output_problem
from orkestra_tui.engine.agents.answers import (
    BALLOT_SCHEMA,
    COMPROMISE_SCHEMA,
    PLAN_SCHEMA,
    REVIEW_SCHEMA,
    validate,
)
from orkestra_tui.providers.base import ProviderError
from orkestra_tui.providers.structured import (
    anthropic_schema,
    anthropic_takes_schema,
    gemini_schema,
    gemini_takes_schema,
    local_schema,
    openai_takes_schema,
    refuses_structured_output,
    schema_name,
    strict_schema,
)

ENGINE_SCHEMAS = {
    "ballot": BALLOT_SCHEMA,
    "plan": PLAN_SCHEMA,
    "review": REVIEW_SCHEMA,
    "compromise": COMPROMISE_SCHEMA,
}


def objects(schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every object schema inside `schema`."""
    if schema.get("type") == "object":
        yield schema
    for item in (schema.get("properties") or {}).values():
        yield from objects(item)
    if "items" in schema:
        yield from objects(schema["items"])


def openai_body(schema: Mapping[str, Any], *, strict: bool = True) -> dict[str, Any]:
    json_schema: dict[str, Any] = {"name": "answer", "schema": schema}
    if strict:
        json_schema["strict"] = True
    return {
        "messages": [{"role": "user", "content": "Answer as JSON"}],
        "response_format": {"type": "json_schema", "json_schema": json_schema},
    }


@pytest.mark.parametrize("name", list(ENGINE_SCHEMAS))
def test_every_engine_schema_has_a_strict_form(name: str) -> None:
    strict = strict_schema(ENGINE_SCHEMAS[name])
    assert strict is not None
    for item in objects(strict):
        assert item["additionalProperties"] is False
        assert sorted(item["required"]) == sorted(item["properties"])
    assert structured_output_problem("/v1/chat/completions", openai_body(strict)) is None


@pytest.mark.parametrize("name", list(ENGINE_SCHEMAS))
def test_every_engine_schema_has_an_anthropic_gemini_and_local_form(name: str) -> None:
    schema = ENGINE_SCHEMAS[name]
    claude = anthropic_schema(schema)
    gemini = gemini_schema(schema)
    local = local_schema(schema)
    assert claude is not None and gemini is not None and local is not None
    claude_body = {"output_config": {"format": {"type": "json_schema", "schema": claude}}}
    assert structured_output_problem("/v1/messages", claude_body) is None
    gemini_body = {"generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": gemini}}
    assert structured_output_problem("/v1beta/models/g:generateContent", gemini_body) is None
    assert structured_output_problem("/v1/chat/completions", openai_body(local, strict=False)) is None


@pytest.mark.parametrize("name", list(ENGINE_SCHEMAS))
def test_the_fake_refuses_our_schemas_unconverted(name: str) -> None:
    """The wire fake's checks bite: each vendor's 400 for the schema as the engine writes it."""
    schema = ENGINE_SCHEMAS[name]
    refused = structured_output_problem("/v1/chat/completions", openai_body(schema))
    assert refused is not None and refused[0] == "response_format"
    claude_body = {"output_config": {"format": {"type": "json_schema", "schema": schema}}}
    assert structured_output_problem("/v1/messages", claude_body) is not None
    gemini_body = {"generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema}}
    assert structured_output_problem("/v1beta/models/g:generateContent", gemini_body) is not None


def test_an_optional_property_with_an_empty_value_becomes_required() -> None:
    schema = {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"type": "string"},
        },
    }
    strict = strict_schema(schema)
    assert strict == {
        "type": "object",
        "properties": {
            "title": {"type": "string", "description": "At least 1 character; at most 200 characters."},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"type": "string"},
        },
        "required": ["title", "tags", "note"],
        "additionalProperties": False,
    }
    # What strict mode makes a model send in their place still passes our own schema.
    assert validate({"title": "t", "tags": [], "note": ""}, schema) == []


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"count": {"type": "integer"}}},
        {"type": "object", "properties": {"steps": {"type": "array", "minItems": 1}}},
        {"type": "object", "properties": {"level": {"type": "string", "enum": ["low", "high"]}}},
        {"type": "object", "additionalProperties": {"type": "number"}},
        {"type": "object"},
        {"properties": {"a": {"type": "string"}}},
    ],
    ids=["optional-integer", "optional-nonempty-list", "optional-enum", "map", "open-object", "untyped"],
)
def test_a_schema_with_no_strict_form_gets_none(schema: dict[str, Any]) -> None:
    assert strict_schema(schema) is None


def test_a_map_has_no_form_in_any_dialect() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "number"}}
    assert anthropic_schema(schema) is None
    assert gemini_schema(schema) is None
    assert local_schema(schema) is None


def test_each_dialect_keeps_what_it_takes_and_says_the_rest_in_words() -> None:
    schema = {
        "type": "object",
        "required": ["items", "score", "name"],
        "properties": {
            "items": {"type": "array", "minItems": 2, "maxItems": 5, "items": {"type": "string"}},
            "score": {"type": "number", "minimum": 0, "maximum": 1, "description": "How sure."},
            "name": {"type": "string", "minLength": 1, "maxLength": 40},
        },
    }
    claude = anthropic_schema(schema)
    assert claude is not None
    assert claude["properties"]["items"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": "At least 2 items; at most 5 items.",
    }
    assert claude["properties"]["score"] == {
        "type": "number",
        "description": "How sure. (at least 0; at most 1.)",
    }
    assert claude["additionalProperties"] is False
    gemini = gemini_schema(schema)
    assert gemini is not None
    assert gemini["properties"]["score"] == {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "How sure.",
    }
    assert gemini["properties"]["name"]["description"] == "At least 1 character; at most 40 characters."
    local = local_schema(schema)
    assert local is not None
    assert local["properties"]["name"] == {
        "type": "string",
        "minLength": 1,
        "description": "At most 40 characters.",
    }
    assert local["required"] == ["items", "score", "name"]


def test_converting_leaves_the_engine_schema_alone() -> None:
    before = repr(PLAN_SCHEMA)
    strict_schema(PLAN_SCHEMA)
    anthropic_schema(PLAN_SCHEMA)
    gemini_schema(PLAN_SCHEMA)
    local_schema(PLAN_SCHEMA)
    assert repr(PLAN_SCHEMA) == before


@pytest.mark.parametrize(
    ("model", "takes"),
    [
        ("claude-sonnet-4-5", True),
        ("claude-sonnet-4-5-20250929", True),
        ("claude-opus-4-6", True),
        ("claude-haiku-4-5", True),
        ("claude-opus-4-1-20250805", False),
        ("claude-sonnet-4-20250514", False),
        ("claude-3-5-sonnet-20241022", False),
        ("claude-3-haiku-20240307", False),
        ("a-gateway-alias", True),
    ],
)
def test_which_claude_models_take_a_schema(model: str, takes: bool) -> None:
    assert anthropic_takes_schema(model) is takes


@pytest.mark.parametrize(
    ("model", "takes"),
    [
        ("gpt-5", True),
        ("gpt-4.1-mini", True),
        ("gpt-4o", True),
        ("o3", True),
        ("gpt-4", False),
        ("gpt-4-turbo", False),
        ("gpt-4-0613", False),
        ("gpt-3.5-turbo", False),
        ("o1-mini", False),
    ],
)
def test_which_openai_models_take_a_schema(model: str, takes: bool) -> None:
    assert openai_takes_schema(model) is takes


@pytest.mark.parametrize(
    ("model", "takes"),
    [
        ("gemini-2.5-pro", True),
        ("gemini-3-pro-preview", True),
        ("models/gemini-2.5-flash", True),
        ("gemini-2.0-flash", False),
        ("gemini-1.5-pro", False),
    ],
)
def test_which_gemini_models_take_a_schema(model: str, takes: bool) -> None:
    assert gemini_takes_schema(model) is takes


def test_schema_names_are_what_openai_accepts() -> None:
    assert schema_name("ballot") == "ballot"
    assert schema_name("plan synthesis/2") == "plan_synthesis_2"
    assert schema_name("") == "answer"
    assert len(schema_name("x" * 100)) == 64


def test_a_refusal_is_a_400_that_names_the_parameter() -> None:
    names = ("response_format",)
    named = ProviderError("bad_request", "HTTP 400: Invalid parameter: 'response_format' is not supported")
    assert refuses_structured_output(named, names)
    assert not refuses_structured_output(
        ProviderError("bad_request", "HTTP 400: max_tokens too large"), names
    )
    assert not refuses_structured_output(ProviderError("server", "HTTP 500: response_format"), names)

"""Structured answers from agents: their schemas, and parsing that trusts nothing.

A model's text may wrap its JSON in prose or a code fence, or return garbage.
`parse_answer` finds the JSON object, validates it against a small JSON-Schema
subset (type, properties, required, additionalProperties, items, enum,
minimum, maximum, minItems, maxItems, minLength, maxLength) and raises
`AnswerError` with every problem named. Callers repair once at most, then
record an abstention or a failed attempt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

CATEGORIES = (
    "architecture",
    "code",
    "tests",
    "docs",
    "research",
    "review",
    "data",
    "design",
    "ops",
)

BALLOT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ranking", "confidence", "reasoning"],
    "additionalProperties": False,
    "properties": {
        "ranking": {"type": "array", "items": {"type": "string", "maxLength": 16}, "maxItems": 64},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "reasoning": {"type": "string", "maxLength": 4000},
    },
}

TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "title", "instructions", "category", "priority"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "minLength": 1, "maxLength": 64},
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "instructions": {"type": "string", "minLength": 1, "maxLength": 8000},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "priority": {"type": "string", "enum": ["critical", "high", "normal", "low"]},
        "depends_on": {"type": "array", "items": {"type": "string"}, "maxItems": 32},
        "acceptance": {
            "type": "array",
            "items": {"type": "string", "maxLength": 500},
            "maxItems": 16,
        },
    },
}

PLAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["summary", "phases"],
    "additionalProperties": False,
    "properties": {
        "summary": {"type": "string", "minLength": 1, "maxLength": 2000},
        "phases": {
            "type": "array",
            "minItems": 1,
            "maxItems": 12,
            "items": {
                "type": "object",
                "required": ["name", "tasks"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 120},
                    "tasks": {"type": "array", "minItems": 1, "maxItems": 40, "items": TASK_SCHEMA},
                },
            },
        },
    },
}

REVIEW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["verdict", "comments"],
    "additionalProperties": False,
    "properties": {
        "verdict": {"type": "string", "enum": ["approve", "concerns", "blocker"]},
        "comments": {"type": "string", "maxLength": 4000},
    },
}

COMPROMISE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["option", "rationale"],
    "additionalProperties": False,
    "properties": {
        "option": {"type": "string", "minLength": 1, "maxLength": 400},
        "rationale": {"type": "string", "maxLength": 2000},
    },
}


class AnswerError(ValueError):
    """An agent's answer is not the JSON asked for."""


def parse_answer(text: str, schema: Mapping[str, Any]) -> Any:
    """The JSON value in `text`, validated against `schema`."""
    value = extract_json(text)
    problems = validate(value, schema)
    if problems:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise AnswerError(f"answer does not match the schema: {shown}{more}")
    return value


def extract_json(text: str) -> Any:
    """The first JSON object in `text`: bare, inside a ``` fence, or amid prose."""
    stripped = text.strip()
    if not stripped:
        raise AnswerError("answer is empty")
    decoder = json.JSONDecoder()
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    for start, character in enumerate(stripped):
        if character == "{":
            try:
                value, _end = decoder.raw_decode(stripped, start)
            except json.JSONDecodeError:
                continue
            return value
    raise AnswerError("answer holds no JSON object")


def validate(value: Any, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """Every way `value` fails `schema`, as readable strings (empty when it conforms)."""
    problems: list[str] = []
    expected = schema.get("type")
    if expected is not None and not _is_type(value, expected):
        return [f"{path} should be {expected}, not {_json_type(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(item) for item in schema["enum"])
        problems.append(f"{path} should be one of {allowed}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{path} should be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{path} should be at most {schema['maximum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            problems.append(f"{path} is too short")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            problems.append(f"{path} is longer than {schema['maxLength']} characters")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{path} needs at least {schema['minItems']} items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{path} has more than {schema['maxItems']} items")
        if "items" in schema:
            for index, item in enumerate(value):
                problems.extend(validate(item, schema["items"], f"{path}[{index}]"))
    if isinstance(value, dict):
        properties: Mapping[str, Any] = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in value:
                problems.append(f"{path}.{key} is missing")
        for key, item in value.items():
            if key in properties:
                problems.extend(validate(item, properties[key], f"{path}.{key}"))
            elif schema.get("additionalProperties", True) is False:
                problems.append(f"{path}.{key} is not expected")
    return problems


def _is_type(value: Any, expected: str) -> bool:
    checks: dict[str, bool] = {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "null": value is None,
    }
    return checks.get(expected, False)


def _json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, name):
            return name
    return type(value).__name__

"""Structured answers from agents: their schemas, and parsing that trusts nothing.

A model's text may wrap its JSON in prose or a code fence, or return garbage.
`parse_answer` finds the JSON object, validates it against a small JSON-Schema
subset (type, properties, required, additionalProperties, items, enum,
minimum, maximum, minItems, maxItems, minLength, maxLength) and raises
`AnswerError` with every problem named. Callers repair once at most, then
record an abstention or a failed attempt.

It judges substance, not form: before validating, keys the schema does not
know are dropped (they carry nothing the caller reads), and an enum value is
taken in any case, or as a known synonym (`medium` for `normal`, `testing`
for `tests`). What it refuses, it names with the allowed values.
`placeholder_problems` refuses a plan whose texts are empty or placeholders
("...", "string", "TODO", "<title>"), such as the prompt's template echoed back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
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
PRIORITY_NAMES = ("critical", "high", "normal", "low")
VERDICTS = ("approve", "concerns", "blocker")

# Common words models use for an enum's values, each mapped to the value it unambiguously means.
CATEGORY_SYNONYMS = {
    **dict.fromkeys(("arch", "architectural", "system design", "structure"), "architecture"),
    **dict.fromkeys(
        (
            "development",
            "dev",
            "implementation",
            "implement",
            "coding",
            "programming",
            "feature",
            "features",
            "engineering",
            "backend",
            "frontend",
            "refactor",
            "refactoring",
            "bugfix",
        ),
        "code",
    ),
    **dict.fromkeys(
        ("test", "testing", "qa", "quality assurance", "unit tests", "integration tests", "verification"),
        "tests",
    ),
    **dict.fromkeys(("doc", "documentation", "documents", "readme", "writing"), "docs"),
    **dict.fromkeys(("investigation", "analysis", "spike", "discovery", "exploration"), "research"),
    **dict.fromkeys(("code review", "reviewing", "audit"), "review"),
    **dict.fromkeys(("database", "db", "data model", "data modeling", "schema", "migration"), "data"),
    **dict.fromkeys(("ui", "ux", "ui ux", "user interface", "ux design", "ui design"), "design"),
    **dict.fromkeys(
        (
            "operations",
            "devops",
            "infrastructure",
            "infra",
            "deployment",
            "deploy",
            "release",
            "ci",
            "ci cd",
            "setup",
            "configuration",
            "maintenance",
        ),
        "ops",
    ),
}
PRIORITY_SYNONYMS = {
    **dict.fromkeys(("urgent", "highest", "crucial", "must", "must have", "p0"), "critical"),
    **dict.fromkeys(("important", "major", "p1"), "high"),
    **dict.fromkeys(
        ("medium", "moderate", "mid", "middle", "default", "standard", "regular", "p2"), "normal"
    ),
    **dict.fromkeys(("minor", "lowest", "trivial", "optional", "nice to have", "p3"), "low"),
}
VERDICT_SYNONYMS = {
    "approved": "approve",
    "concern": "concerns",
    **dict.fromkeys(("blockers", "blocked", "blocking"), "blocker"),
}
ENUM_SYNONYMS: dict[tuple[str, ...], Mapping[str, str]] = {
    CATEGORIES: CATEGORY_SYNONYMS,
    PRIORITY_NAMES: PRIORITY_SYNONYMS,
    VERDICTS: VERDICT_SYNONYMS,
}
"""An enum's values (as the schema lists them) to the synonyms taken for them."""

BALLOT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ranking", "confidence", "reasoning"],
    "additionalProperties": False,
    "properties": {
        "ranking": {"type": "array", "items": {"type": "string", "maxLength": 500}, "maxItems": 64},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "reasoning": {"type": "string", "maxLength": 4000},
    },
}


def ballot_schema(labels: Sequence[str]) -> dict[str, Any]:
    """The schema one voter's ballot request carries: a ranking of at least one of its labels.

    Sent as the vendor's structured output, it keeps the model to the labels it
    was shown (a small model left free answers `[]` or `"<label>"`). The
    answer is still validated with `BALLOT_SCHEMA`, which also takes an
    option's text for its label and an empty ranking from the prompt path.
    """
    if not labels:
        return BALLOT_SCHEMA
    ranking = {**BALLOT_SCHEMA["properties"]["ranking"], "items": {"type": "string", "enum": list(labels)}}
    ranking["minItems"] = 1
    ranking["maxItems"] = len(labels)
    return {**BALLOT_SCHEMA, "properties": {**BALLOT_SCHEMA["properties"], "ranking": ranking}}


TASK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["key", "title", "instructions", "category", "priority"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "minLength": 1, "maxLength": 64},
        "title": {"type": "string", "minLength": 1, "maxLength": 200},
        "instructions": {"type": "string", "minLength": 1, "maxLength": 8000},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "priority": {"type": "string", "enum": list(PRIORITY_NAMES)},
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
        "verdict": {"type": "string", "enum": list(VERDICTS)},
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
    """The JSON value in `text`, conformed to `schema` (see `conform`), then validated against it."""
    return checked(extract_json(text), schema)


def checked(value: Any, schema: Mapping[str, Any]) -> Any:
    """`value` (JSON already read from an answer) conformed to `schema`, then validated against it."""
    value = conform(value, schema)
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


def conform(value: Any, schema: Mapping[str, Any]) -> Any:
    """`value` with what carries no meaning taken off and enum values in their canonical spelling.

    A key is taken in any case (`"Verdict"` for `verdict`, unless both are
    there); keys that a schema with `additionalProperties: false` does not
    list are dropped (a model's extra `"concerns": ""` beside its verdict says
    nothing the caller reads); an enum string is matched case-insensitively,
    and through `ENUM_SYNONYMS`. Anything else is left for `validate` to judge.
    """
    if isinstance(value, dict):
        properties: Mapping[str, Any] = schema.get("properties", {})
        strict = schema.get("additionalProperties", True) is False
        spelt = {name.casefold(): name for name in properties}
        conformed: dict[str, Any] = {}
        for key, item in value.items():
            name = key if key in properties else spelt.get(str(key).casefold())
            if name is not None and (name == key or name not in value):  # "Verdict" for "verdict"
                conformed[name] = conform(item, properties[name])
            elif not strict:
                conformed[key] = item
        return conformed
    if isinstance(value, list) and "items" in schema:
        return [conform(item, schema["items"]) for item in value]
    if isinstance(value, str) and "enum" in schema:
        return canonical(value, schema["enum"])
    return value


def canonical(value: str, allowed: list[Any]) -> str:
    """The enum value `value` names (in any case, or by a known synonym), else `value` itself."""
    if value in allowed:
        return value
    plain = " ".join(re.split(r"[\s_\-/&]+", value.casefold())).strip()
    for item in allowed:
        if isinstance(item, str) and item.casefold() == plain:
            return item
    synonym = ENUM_SYNONYMS.get(tuple(allowed), {}).get(plain)
    return synonym if synonym is not None else value


PLACEHOLDER_WORDS = frozenset(
    {
        "string",
        "str",
        "text",
        "todo",
        "tbd",
        "tba",
        "fixme",
        "xxx",
        "placeholder",
        "example",
        "lorem ipsum",
        "n a",
        "none",
        "null",
        "undefined",
        "summary",
        "name",
        "title",
        "instructions",
        "description",
        "phase",
        "phase name",
        "task",
        "task title",
        "acceptance",
        "criterion",
        "criteria",
    }
)
"""Texts (reduced to their words) that stand for a text to write, not for one written."""


def is_placeholder(text: str) -> bool:
    """Whether `text` is empty or stands in for real text: "...", "string", "TODO", "<title>"."""
    stripped = " ".join(text.split())
    if not re.search(r"[^\W_]", stripped):
        return True  # empty, or only punctuation: "...", "…", "-", "?"
    if re.fullmatch(r"<[^<>]*>|\{\{?[\w\s.-]*\}?\}|\[[\w\s.-]*\]", stripped):
        return True  # a slot to fill: <title>, {title}, {{title}}, [title]
    return " ".join(re.findall(r"[^\W_]+", stripped.casefold())) in PLACEHOLDER_WORDS


def placeholder_problems(plan: Any) -> list[str]:
    """Every text of a plan (valid or not) that is empty or a placeholder, by its path."""
    problems: list[str] = []

    def check(text: Any, path: str) -> None:
        if isinstance(text, str) and is_placeholder(text):
            shown = clip_value(text)
            problems.append(f"{path} is {'empty' if not text.strip() else f'a placeholder ({shown})'}")

    def items(container: Any, key: str) -> list[Any]:
        found = container.get(key) if isinstance(container, dict) else None
        return found if isinstance(found, list) else []

    if isinstance(plan, dict):
        check(plan.get("summary", ""), "$.summary")
    for p, phase in enumerate(items(plan, "phases")):
        if isinstance(phase, dict):
            check(phase.get("name", ""), f"$.phases[{p}].name")
        for t, task in enumerate(items(phase, "tasks")):
            where = f"$.phases[{p}].tasks[{t}]"
            if isinstance(task, dict):
                for name in ("title", "instructions"):
                    check(task.get(name, ""), f"{where}.{name}")
            for a, criterion in enumerate(items(task, "acceptance")):
                check(criterion, f"{where}.acceptance[{a}]")
    return problems


def plan_refusal(text: str, problem: str) -> str:
    """Why a plan answer outside the schema is refused: its placeholders first, when it has some."""
    try:
        placeholders = placeholder_problems(conform(extract_json(text), PLAN_SCHEMA))
    except AnswerError:
        return problem
    if not placeholders:
        return problem
    return f"the plan has placeholders, not real text: {first_of(placeholders)}; and {problem}"


def first_of(problems: list[str], shown: int = 3) -> str:
    """The first few problems, and how many more there are."""
    more = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return "; ".join(problems[:shown]) + more


def real_tasks(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's tasks whose title and instructions are real text, not empty or placeholders."""
    return [
        task
        for phase in plan.get("phases", [])
        for task in phase.get("tasks", [])
        if not is_placeholder(str(task.get("title", "")))
        and not is_placeholder(str(task.get("instructions", "")))
    ]


def clip_value(value: Any, limit: int = 40) -> str:
    """A value as JSON, cut to `limit` characters: for naming a wrong value in a problem."""
    shown = json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def validate(value: Any, schema: Mapping[str, Any], path: str = "$") -> list[str]:
    """Every way `value` fails `schema`, as readable strings (empty when it conforms)."""
    problems: list[str] = []
    expected = schema.get("type")
    if expected is not None and not _is_type(value, expected):
        return [f"{path} should be {expected}, not {_json_type(value)}"]
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(item) for item in schema["enum"])
        problems.append(f"{path} is {clip_value(value)}; it should be one of {allowed}")
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

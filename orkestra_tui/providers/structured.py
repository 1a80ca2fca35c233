"""Native structured output: the engine's answer schemas in each vendor's schema-constrained form.

The engine asks for ballots, plans, reviews and compromises "as JSON" and
validates every answer against its own schema (`engine/agents/answers.py`). Where a
vendor can constrain the model's output to a schema, the provider also sends
the schema in that vendor's dialect, so the answer is shaped right the first
time; the engine still validates it, and still repairs it once at most.

Which path a structured call takes (recorded on its call row):

- `schema`: the vendor's schema-constrained output (OpenAI and xAI strict
  `json_schema`, Anthropic `output_config.format`, Gemini
  `response_json_schema`, an OpenAI-compatible local server's `json_schema`);
- `json`: JSON mode only, any JSON object (OpenAI `json_object`, Gemini's JSON
  mime type), for models without schema support or a schema the vendor cannot
  express;
- `prompt`: the schema in the prompt only (Copilot, command agents, models
  without either mode, and an endpoint that refused the parameter).

Each vendor accepts a different subset of JSON Schema. A keyword outside the
subset is moved into the description (so the model may still follow it, and
our own validation still enforces it); a schema that cannot be expressed at
all (an open map, an optional property that has no empty value under strict
mode) gets no native form, and the provider falls back.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from orkestra_tui.providers.base import ProviderError

OUTPUT_SCHEMA: Final = "schema"
OUTPUT_JSON: Final = "json"
OUTPUT_PROMPT: Final = "prompt"

STRUCTURAL_KEYWORDS = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "description",
        "title",
    }
)
OPENAI_STRICT_KEYWORDS = STRUCTURAL_KEYWORDS | {
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
}
"""What OpenAI's strict mode accepts (xAI accepts the same shape); no string lengths."""
ANTHROPIC_KEYWORDS = STRUCTURAL_KEYWORDS | {"minItems"}
"""What Claude's structured outputs accept: no numeric bounds, lengths or maxItems; minItems 0 or 1 only."""
GEMINI_KEYWORDS = STRUCTURAL_KEYWORDS | {"format", "minItems", "maxItems", "minimum", "maximum"}
"""The keywords google-genai documents for `response_json_schema`."""
LOCAL_KEYWORDS = STRUCTURAL_KEYWORDS | {"minLength", "minItems", "maxItems", "minimum", "maximum", "pattern"}
"""What a local server's grammar is built from; no maxLength, which a grammar spells out character by
character (a limit of 8,000 makes a grammar too large to build quickly)."""

OPENAI_PARAMETERS = ("response_format", "json_schema", "json_object")
ANTHROPIC_PARAMETERS = ("output_config", "output_format", "structured output")
GEMINI_PARAMETERS = (
    "response_json_schema",
    "responseJsonSchema",
    "response_schema",
    "responseSchema",
    "response_mime_type",
    "responseMimeType",
    "json mode",
)
"""The names an endpoint's 400 uses when it refuses a vendor's structured-output parameter."""

Result = TypeVar("Result")


class _NotExpressible(ValueError):
    """A schema with no form in the vendor's dialect."""


@dataclass(frozen=True)
class Dialect:
    """The subset of JSON Schema one vendor's structured output takes."""

    keywords: frozenset[str]
    all_required: bool = False
    """Every property must be required (OpenAI's strict mode)."""
    largest_min_items: int | None = None
    """The largest `minItems` accepted, when there is a cap (Anthropic: 1)."""


OPENAI_STRICT = Dialect(OPENAI_STRICT_KEYWORDS, all_required=True)
ANTHROPIC = Dialect(ANTHROPIC_KEYWORDS, largest_min_items=1)
GEMINI = Dialect(GEMINI_KEYWORDS)
LOCAL = Dialect(LOCAL_KEYWORDS)


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """Our schema in OpenAI's strict dialect, or None when it has none.

    Strict mode needs every object closed (`additionalProperties: false`) with
    every property required. An optional property becomes required when an
    empty value (an empty array, an empty string) still passes our schema, so
    requiring it changes nothing an answer may say; otherwise there is no
    strict form and the caller falls back to JSON mode.
    """
    return _converted(schema, OPENAI_STRICT)


def anthropic_schema(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """Our schema as Claude's structured outputs take it (`output_config.format.schema`), or None."""
    return _converted(schema, ANTHROPIC)


def gemini_schema(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """Our schema as Gemini's `response_json_schema` takes it, or None."""
    return _converted(schema, GEMINI)


def local_schema(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """Our schema for an OpenAI-compatible local server (Ollama, llama.cpp), or None."""
    return _converted(schema, LOCAL)


OPENAI_WITHOUT_SCHEMA = (
    "gpt-3.5",
    "gpt-4-",
    "gpt-4-0",
    "gpt-4o-2024-05-13",
    "chatgpt-4o",
    "o1-mini",
    "o1-preview",
)
"""OpenAI models older than Structured Outputs (`gpt-4` itself too): JSON mode at most."""
CLAUDE_VERSION = re.compile(r"claude-(?:(?:opus|sonnet|haiku)-(\d+)(?:-(\d)(?!\d))?|(\d)(?:-(\d))?-)")
GEMINI_WITHOUT_SCHEMA = ("gemini-1.", "gemini-2.0", "gemini-pro", "gemini-exp")
"""Gemini models older than JSON-Schema output (it came with Gemini 2.5): JSON mode."""


def openai_takes_schema(model: str) -> bool:
    """Whether an OpenAI model takes strict `json_schema` output (any other name is tried, and may refuse)."""
    name = model.lower()
    return name != "gpt-4" and not name.startswith(OPENAI_WITHOUT_SCHEMA)


def anthropic_takes_schema(model: str) -> bool:
    """Whether a Claude model takes structured outputs: Claude 4.5 and later (other names are tried)."""
    match = CLAUDE_VERSION.match(model.lower())
    if match is None:
        return True
    major = int(match.group(1) or match.group(3))
    minor = int(match.group(2) or match.group(4) or 0)
    return (major, minor) >= (4, 5)


def gemini_takes_schema(model: str) -> bool:
    """Whether a Gemini model takes `response_json_schema` (2.5 and later; other names are tried)."""
    return not model.lower().removeprefix("models/").startswith(GEMINI_WITHOUT_SCHEMA)


def schema_name(purpose: str) -> str:
    """A name for the schema as OpenAI wants one (letters, digits, `_` and `-`; up to 64)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", purpose)[:64] or "answer"


def refuses_structured_output(error: ProviderError, parameters: tuple[str, ...]) -> bool:
    """Whether `error` is an endpoint refusing the structured-output parameter (a 400 that names it)."""
    if error.error_class != "bad_request":
        return False
    message = str(error).lower()
    return any(parameter.lower() in message for parameter in parameters)


async def sending(
    structured: Mapping[str, Any],
    send: Callable[[Mapping[str, Any]], Awaitable[Result]],
    parameters: tuple[str, ...],
    on_refused: Callable[[], None],
) -> Result:
    """`send(structured)`; if the endpoint refuses the structured-output parameter, once more without it.

    `on_refused` is told first, so the provider remembers the refusal and its
    later calls go straight to the prompt path.
    """
    try:
        return await send(structured)
    except ProviderError as error:
        if not structured or not refuses_structured_output(error, parameters):
            raise
    on_refused()
    return await send({})


def _converted(schema: Mapping[str, Any], dialect: Dialect) -> dict[str, Any] | None:
    try:
        return _convert(schema, dialect)
    except _NotExpressible:
        return None


def _convert(schema: Mapping[str, Any], dialect: Dialect) -> dict[str, Any]:
    if not isinstance(schema, Mapping):
        raise _NotExpressible("a schema must be an object")
    kind = schema.get("type")
    if not isinstance(kind, str) and "enum" not in schema and "const" not in schema:
        raise _NotExpressible("a schema needs one type (or an enum)")
    converted: dict[str, Any] = {}
    moved: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "required", "additionalProperties", "items", "description"):
            continue  # rebuilt below
        cap = dialect.largest_min_items
        if key == "minItems" and cap is not None and value > cap:
            moved[key] = value
        elif key in dialect.keywords:
            converted[key] = list(value) if isinstance(value, list | tuple) else value
        else:
            moved[key] = value
    if kind == "object":
        converted.update(_object(schema, dialect))
    elif kind == "array" and "items" in schema:
        converted["items"] = _convert(schema["items"], dialect)
    description = str(schema.get("description", ""))
    if moved:
        # Kept in words, so the model may still follow it; our own validation enforces it.
        limits = "; ".join(_in_words(key, value) for key, value in moved.items()) + "."
        description = f"{description} ({limits})" if description else limits.capitalize()
    if description:
        converted["description"] = description
    return converted


def _object(schema: Mapping[str, Any], dialect: Dialect) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    additional = schema.get("additionalProperties", True)
    if isinstance(additional, Mapping) or (not properties and additional is not False):
        raise _NotExpressible("an object with keys of its own choosing (a map) cannot be closed")
    required = [str(name) for name in schema.get("required", ()) if name in properties]
    if dialect.all_required:
        for name, item in properties.items():
            if name not in required and not _accepts_empty(item):
                raise _NotExpressible(f"optional {name!r} has no empty value to stand for its absence")
        required = list(properties)
    return {
        "properties": {name: _convert(item, dialect) for name, item in properties.items()},
        "required": required,
        # Closed: an extra key carries nothing the engine reads, and both strict dialects demand it.
        "additionalProperties": False,
    }


LIMIT_WORDS = {
    "minLength": ("at least", "character"),
    "maxLength": ("at most", "character"),
    "minItems": ("at least", "item"),
    "maxItems": ("at most", "item"),
    "minimum": ("at least", ""),
    "maximum": ("at most", ""),
}


def _in_words(keyword: str, value: Any) -> str:
    """A schema limit the dialect cannot express, as a model reads it: "at most 200 characters"."""
    if keyword not in LIMIT_WORDS:
        return f"{keyword}: {value}"
    bound, unit = LIMIT_WORDS[keyword]
    if unit:
        unit = f" {unit}" if value == 1 else f" {unit}s"
    return f"{bound} {value}{unit}"


def _accepts_empty(schema: Any) -> bool:
    """Whether an empty value of the schema's type passes it: what a required stand-in may be."""
    if not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    if kind == "array":
        return not schema.get("minItems", 0)
    if kind == "string":
        return not schema.get("minLength", 0) and ("enum" not in schema or "" in schema["enum"])
    return False

"""The wire fake's check of each vendor's structured-output parameter, refused with a 400 as the API would.

A request whose `response_format` (OpenAI and compatible), `output_config`
(Anthropic) or `generationConfig` JSON-schema fields (Gemini) has the wrong
shape, or a schema outside the subset that vendor accepts, gets a 400 whose
message names the parameter, like the real endpoints. So a test that sends the
wrong shape fails (its call falls back, and the fake records the refusal).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

OPENAI_STRICT_KEYWORDS = frozenset(
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
        "anyOf",
        "$defs",
        "$ref",
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
)
ANTHROPIC_REFUSED_KEYWORDS = frozenset(
    {
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minLength",
        "maxLength",
        "maxItems",
        "minProperties",
        "maxProperties",
    }
)
GEMINI_JSON_SCHEMA_KEYWORDS = frozenset(
    {
        "$id",
        "$defs",
        "$ref",
        "$anchor",
        "type",
        "format",
        "title",
        "description",
        "enum",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "anyOf",
        "oneOf",
        "properties",
        "additionalProperties",
        "required",
        "propertyOrdering",
    }
)
"""The keywords google-genai documents for `response_json_schema`."""
SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def structured_output_problem(path: str, body: Any) -> tuple[str, str] | None:
    """(parameter, message) when the request's structured-output parameter is malformed, else None."""
    if not isinstance(body, dict):
        return None
    if path.endswith("/chat/completions") and "response_format" in body:
        problem = _openai_problem(body)
        return None if problem is None else ("response_format", problem)
    if path.endswith("/messages") and "output_config" in body:
        problem = _anthropic_problem(body["output_config"])
        return None if problem is None else ("output_config", problem)
    if ":generateContent" in path and isinstance(body.get("generationConfig"), dict):
        return _gemini_problem(body["generationConfig"])
    return None


def _subschemas(schema: Any, where: str) -> Iterator[tuple[str, Any]]:
    """Every schema inside `schema` (itself included), with where it sits."""
    yield where, schema
    if not isinstance(schema, Mapping):
        return
    for name, item in (schema.get("properties") or {}).items():
        yield from _subschemas(item, f"{where}.properties.{name}")
    if "items" in schema:
        yield from _subschemas(schema["items"], f"{where}.items")
    for index, item in enumerate(schema.get("anyOf") or ()):
        yield from _subschemas(item, f"{where}.anyOf[{index}]")


def _openai_problem(body: Mapping[str, Any]) -> str | None:
    response_format = body["response_format"]
    if not isinstance(response_format, Mapping) or response_format.get("type") not in (
        "text",
        "json_object",
        "json_schema",
    ):
        return "Invalid value for 'response_format.type': expected text, json_object or json_schema."
    if response_format["type"] == "json_object":
        if "json" not in str(body.get("messages", "")).lower():
            return (
                "'messages' must contain the word 'json' in some form to use 'response_format' json_object."
            )
        return None
    if response_format["type"] != "json_schema":
        return None
    json_schema = response_format.get("json_schema")
    if not isinstance(json_schema, Mapping):
        return "Missing required parameter: 'response_format.json_schema'."
    unknown = set(json_schema) - {"name", "schema", "strict", "description"}
    if unknown:
        return f"Unrecognized 'response_format.json_schema' fields: {sorted(unknown)}."
    if not isinstance(json_schema.get("name"), str) or not SCHEMA_NAME.match(json_schema["name"]):
        return "Invalid 'response_format.json_schema.name': letters, digits, '_' and '-' only, up to 64."
    schema = json_schema.get("schema")
    if not isinstance(schema, Mapping):
        return "Invalid 'response_format.json_schema.schema': expected an object."
    if json_schema.get("strict") is not True:
        return None
    for where, item in _subschemas(schema, "schema"):
        if not isinstance(item, Mapping):
            return f"Invalid schema for response_format: {where} is not an object."
        refused = set(item) - OPENAI_STRICT_KEYWORDS
        if refused:
            return f"Invalid schema for response_format: {where}: {sorted(refused)} not permitted (strict)."
        if item.get("type") == "object":
            if item.get("additionalProperties") is not False:
                return f"Invalid schema for response_format: {where}: 'additionalProperties' must be false."
            if sorted(item.get("required", ())) != sorted(item.get("properties") or {}):
                return f"Invalid schema for response_format: {where}: 'required' must list every property."
    return None


def _anthropic_problem(output_config: Any) -> str | None:
    if not isinstance(output_config, Mapping):
        return "output_config: Input should be an object"
    unknown = set(output_config) - {"format", "effort"}
    if unknown:
        return f"output_config.{sorted(unknown)[0]}: Extra inputs are not permitted"
    output_format = output_config.get("format")
    if output_format is None:
        return None
    if not isinstance(output_format, Mapping) or output_format.get("type") != "json_schema":
        return "output_config.format.type: Input should be 'json_schema'"
    if set(output_format) != {"type", "schema"} or not isinstance(output_format["schema"], Mapping):
        return "output_config.format: exactly 'type' and an object 'schema' are expected"
    for where, item in _subschemas(output_format["schema"], "output_config.format.schema"):
        if not isinstance(item, Mapping):
            return f"{where}: a schema must be an object"
        refused = set(item) & ANTHROPIC_REFUSED_KEYWORDS
        if refused:
            return f"{where}: {sorted(refused)} not supported in structured output schemas"
        if item.get("minItems", 0) not in (0, 1):
            return f"{where}: minItems values other than 0 or 1 are not supported"
        if item.get("type") == "object" and item.get("additionalProperties") is not False:
            return f"{where}: additionalProperties must be set to false for object types"
    return None


def _gemini_problem(config: Mapping[str, Any]) -> tuple[str, str] | None:
    mime_type = config.get("responseMimeType")
    if mime_type is not None and mime_type not in ("text/plain", "application/json", "text/x.enum"):
        return "responseMimeType", f"Invalid value at 'generation_config.response_mime_type' ({mime_type})"
    if "responseJsonSchema" not in config:
        return None
    parameter = "responseJsonSchema"
    if "responseSchema" in config:
        return parameter, "response_json_schema and response_schema are mutually exclusive"
    if mime_type != "application/json":
        return parameter, "response_json_schema needs response_mime_type application/json"
    for where, item in _subschemas(config[parameter], "response_json_schema"):
        if not isinstance(item, Mapping):
            return parameter, f"Invalid JSON payload at {where}: a schema must be an object"
        refused = set(item) - GEMINI_JSON_SCHEMA_KEYWORDS
        if refused:
            return parameter, f"Invalid JSON payload at {where}: unsupported {sorted(refused)}"
    return None

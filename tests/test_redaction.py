"""`redact` removes a key in every form an echo may take, and answers are redacted where they enter."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from fakes import ScriptedProvider

from orkestra_tui.engine.engine import Engine
from orkestra_tui.providers.base import Message, ProviderError, ProviderRequest
from orkestra_tui.secrets import REDACTED, redact, register_secret

KEY = "plain-key-5d1e9a7c3b8f2e6d0a4c9b7e1f3a5c8d"
"""A key of no vendor's shape: only its registration can redact it."""


@pytest.fixture(autouse=True)
def _registered() -> None:
    register_secret(KEY)


def escaped(text: str) -> str:
    return "".join(f"\\u{ord(char):04x}" for char in text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"the key is {KEY}.", f"the key is {REDACTED}."),
        (f"Authorization: Bearer {KEY}", f"Authorization: Bearer {REDACTED}"),
        (f"cut short: {KEY[:16]}", f"cut short: {REDACTED}"),
        (f"the end: {KEY[-20:]}!", f"the end: {REDACTED}!"),
        (f"wrapped {KEY[:22]}\n{KEY[22:]} there", f"wrapped {REDACTED}\n{REDACTED} there"),
        (f"{KEY}{KEY[:30]}", REDACTED + REDACTED),
        (json.dumps({"reasoning": f"key {KEY}"}), json.dumps({"reasoning": f"key {REDACTED}"})),
        (json.dumps({"r": escaped(KEY)}).replace("\\\\", "\\"), json.dumps({"r": REDACTED})),
        ('{"r": "' + KEY[:20].replace("-", "\\u002d") + KEY[20:] + '"}', '{"r": "' + REDACTED + '"}'),
        ('{"r": "' + KEY[:20] + "\\n" + KEY[20:] + '"}', '{"r": "' + REDACTED + "\\n" + REDACTED + '"}'),
    ],
    ids=[
        "whole",
        "bearer",
        "prefix",
        "suffix",
        "wrapped",
        "repeated",
        "json",
        "escaped",
        "one-escape",
        "json-split",
    ],
)
def test_every_form_of_an_echoed_key_is_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected


@pytest.mark.parametrize(
    "text",
    [
        f"a piece too short to tell: {KEY[:15]}",
        'JSON that names no key: {"path": "a\\/b", "letter": "\\u0041", "quote": "\\u0022"}',
        "plain text, a [link] and \\u escapes of nothing",
    ],
)
def test_text_without_a_key_is_left_as_it_is(text: str) -> None:
    assert redact(text) == text


def test_answers_and_errors_are_redacted_where_they_enter_the_engine(engine: Engine) -> None:
    answers: Iterator[str | BaseException] = iter(
        [f"my key is {KEY[:24]}…", ProviderError("auth", f"bad key {escaped(KEY)}")]
    )

    def echo(_request: ProviderRequest, _index: int) -> str | BaseException:
        return next(answers)

    engine.use_provider("claude", ScriptedProvider(echo, model=f"model-{KEY}"))
    request = ProviderRequest(system="", messages=(Message("user", "hi"),), purpose="ping")
    answered = asyncio.run(engine.call("claude", request))
    assert answered.response is not None
    assert (answered.response.text, answered.response.model) == (
        f"my key is {REDACTED}…",
        f"model-{REDACTED}",
    )
    failed = asyncio.run(engine.call("claude", request))
    assert failed.error is not None and str(failed.error) == f"bad key {REDACTED}"
    assert failed.record.error == f"bad key {REDACTED}"

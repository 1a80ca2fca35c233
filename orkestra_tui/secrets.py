"""Keeping API keys out of everything Orkestra writes or shows.

Every key the registry reads from the environment is registered here. A
provider's answer and error text pass through `redact` once, where the engine
receives them (`engine.calls.invoke`), so nothing downstream can store or print
a key a model or an endpoint echoed; text on its way to the audit log and
exports passes through it again. `redact` replaces any registered key, any run
of `PARTIAL_SECRET_CHARS` or more of its characters (a key cut short or wrapped
across lines), a key spelt with JSON escapes (`sk\\u002dabc`), and anything
shaped like a bearer token, with a fixed marker. Values are held only in this
process.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 8
PARTIAL_SECRET_CHARS = 16
"""The shortest run of a key's characters that is redacted on its own: longer than any vendor's
public prefix (sk-ant-api03-, github_pat_), so only text that holds part of the secret matches."""
_ANCHOR_CHARS = PARTIAL_SECRET_CHARS // 2
"""Pieces of each key looked for, every `_ANCHOR_CHARS` characters: any run of
PARTIAL_SECRET_CHARS characters of the key contains one whole piece."""
_secret_values: set[str] = set()
_anchors: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {}
"""Each long secret's pieces, with where each piece stands in it."""
_TOKEN_PATTERN = (
    r"(?i)\b(?:bearer\s+[A-Za-z0-9._~+/=-]{12,}|sk-[A-Za-z0-9_-]{12,}|xai-[A-Za-z0-9_-]{12,}"
    r"|AIza[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,})"
)
"""Shapes of bearer tokens and vendor keys; compiled (and cached by `re`) on first use."""
_KEY_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\(/)")
"""A JSON escape (\\u0041, \\/) of a character that a key may hold."""
_KEY_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~+/=:")


def register_secret(value: str | None) -> None:
    """Remember a secret so that `redact` removes it; short values are ignored."""
    if value and len(value.strip()) >= _MIN_SECRET_LENGTH:
        secret = value.strip()
        _secret_values.add(secret)
        if len(secret) >= PARTIAL_SECRET_CHARS:
            pieces = dict.fromkeys(
                secret[start : start + _ANCHOR_CHARS]
                for start in range(0, len(secret) - _ANCHOR_CHARS + 1, _ANCHOR_CHARS)
            )
            _anchors[secret] = tuple((piece, _positions(secret, piece)) for piece in pieces)


def redact(text: str) -> str:
    """`text` with every registered secret, long piece of one, and token-shaped string replaced."""
    if _secret_values:
        if "\\" in text:
            unescaped = _KEY_ESCAPE.sub(_unescaped_key_character, text)
            if unescaped != text:
                cleaned = _redact_secrets(unescaped)
                if cleaned != unescaped:  # a key spelt with escapes: keep the text that names none
                    text = cleaned
        text = _redact_secrets(text)
    if "sk-" in text or "earer" in text or "xai-" in text or "AIza" in text or "gh" in text:
        text = re.sub(_TOKEN_PATTERN, REDACTED, text)
    return text


def _redact_secrets(text: str) -> str:
    for secret in _secret_values:
        if secret in text:
            text = text.replace(secret, REDACTED)
    spans = sorted(
        span for secret, anchors in _anchors.items() for span in _partial_spans(text, secret, anchors)
    )
    if not spans:
        return text
    merged: list[tuple[int, int]] = []
    for start, stop in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    pieces: list[str] = []
    end = 0
    for start, stop in merged:
        pieces += [text[end:start], REDACTED]
        end = stop
    pieces.append(text[end:])
    return "".join(pieces)


def _partial_spans(
    text: str, secret: str, anchors: tuple[tuple[str, tuple[int, ...]], ...]
) -> list[tuple[int, int]]:
    """Where `text` holds a run of at least PARTIAL_SECRET_CHARS characters of `secret`: each
    piece of the key found in the text, grown both ways while text and key agree."""
    spans: list[tuple[int, int]] = []
    for piece, positions in anchors:
        found = text.find(piece)
        while found != -1:
            for position in positions:
                start, at = found, position
                while start > 0 and at > 0 and text[start - 1] == secret[at - 1]:
                    start, at = start - 1, at - 1
                stop, at = found + len(piece), position + len(piece)
                while stop < len(text) and at < len(secret) and text[stop] == secret[at]:
                    stop, at = stop + 1, at + 1
                if stop - start >= PARTIAL_SECRET_CHARS:
                    spans.append((start, stop))
            found = text.find(piece, found + 1)
    return spans


def _positions(secret: str, piece: str) -> tuple[int, ...]:
    """Every position of `piece` in `secret`."""
    positions = []
    at = secret.find(piece)
    while at != -1:
        positions.append(at)
        at = secret.find(piece, at + 1)
    return tuple(positions)


def _unescaped_key_character(match: re.Match[str]) -> str:
    character = chr(int(match.group(1), 16)) if match.group(1) else match.group(2)
    return character if character in _KEY_CHARACTERS else match.group()

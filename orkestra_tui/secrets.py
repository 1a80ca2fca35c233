"""Keeping API keys out of everything Orkestra writes or shows.

Every key the registry reads from the environment is registered here; text on
its way to the database, the audit log, logs, exports or the screen passes
through `redact`, which replaces any registered key (and anything shaped like
a bearer token) with a fixed marker. Values are held only in this process.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"
_MIN_SECRET_LENGTH = 8
_secret_values: set[str] = set()
_TOKEN_PATTERN = (
    r"(?i)\b(?:bearer\s+[A-Za-z0-9._~+/=-]{12,}|sk-[A-Za-z0-9_-]{12,}|xai-[A-Za-z0-9_-]{12,}"
    r"|AIza[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,})"
)
"""Shapes of bearer tokens and vendor keys; compiled (and cached by `re`) on first use."""


def register_secret(value: str | None) -> None:
    """Remember a secret so that `redact` removes it; short values are ignored."""
    if value and len(value.strip()) >= _MIN_SECRET_LENGTH:
        _secret_values.add(value.strip())


def redact(text: str) -> str:
    """`text` with every registered secret and token-shaped string replaced."""
    for secret in _secret_values:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "sk-" in text or "earer" in text or "xai-" in text or "AIza" in text or "gh" in text:
        text = re.sub(_TOKEN_PATTERN, REDACTED, text)
    return text

"""A request as one plain text, for the providers that take a prompt rather than messages.

The command provider writes it to a CLI's standard input and the Copilot
provider sends it as one message; neither imports the other for it.
"""

from __future__ import annotations

from orkestra_tui.providers.base import ProviderRequest


def prompt_text(request: ProviderRequest) -> str:
    """The whole conversation as plain text for a CLI's standard input."""
    parts = [request.system] if request.system else []
    for message in request.messages:
        prefix = "" if message.role == "user" else "Your earlier answer:\n"
        parts.append(prefix + message.content)
    return "\n\n".join(parts) + "\n"

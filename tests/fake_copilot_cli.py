"""A fake Copilot CLI: the JSON-RPC protocol github-copilot-sdk speaks to it over stdio.

The real SDK starts this script as its CLI (through COPILOT_CLI_PATH). Messages
are framed as `Content-Length: N\\r\\n\\r\\n` followed by N bytes of JSON. It
answers the handshake (`connect`), `session.create`, `session.sendAndWait`
(sending `assistant.message` and `session.idle` events first, as the CLI does),
permission decisions, `session.abort`, `session.detach` and `runtime.shutdown`.

FAKE_COPILOT_MODE chooses the behaviour of a prompt: `reply` (the default),
`permission` (ask for a permission first and wait for the decision), `die`
(exit mid-call), `slow` (never answer), `refuse` (a JSON-RPC error), `legacy` (an older CLI without
`session.sendAndWait`: the SDK falls back to `session.send` and waits for the
events until `session.idle`). FAKE_COPILOT_LOG names a file that
receives one JSON line per message received, and one for the start-up (argv, cwd).
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

MODE = os.environ.get("FAKE_COPILOT_MODE", "reply")
LOG = os.environ.get("FAKE_COPILOT_LOG", "")


def log(entry: dict[str, Any]) -> None:
    if LOG:
        with open(LOG, "a", encoding="utf-8") as file:
            file.write(json.dumps(entry) + "\n")


def read_message() -> dict[str, Any] | None:
    header = sys.stdin.buffer.readline()
    if not header:
        return None
    length = int(header.decode().split(":", 1)[1].strip())
    sys.stdin.buffer.readline()  # the blank line after the header
    message: dict[str, Any] = json.loads(sys.stdin.buffer.read(length))
    return message


def write(message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    sys.stdout.buffer.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    sys.stdout.buffer.flush()


def answer(request_id: Any, result: dict[str, Any]) -> None:
    write({"jsonrpc": "2.0", "id": request_id, "result": result})


def event(session_id: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Send one session event; return it as sent."""
    sent = {
        "id": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
        "type": kind,
        "data": data,
    }
    write({"jsonrpc": "2.0", "method": "session.event", "params": {"sessionId": session_id, "event": sent}})
    return sent


def reply(request: dict[str, Any]) -> None:
    """The assistant's answer to a prompt, then idle, then (for sendAndWait) the result."""
    session_id = request["params"]["sessionId"]
    prompt = request["params"]["prompt"]
    message_id = "message-1"
    message = event(
        session_id,
        "assistant.message",
        {"content": f"Echo: {prompt.strip()}", "messageId": "answer-1", "originatingMessageId": message_id},
    )
    idle = event(session_id, "session.idle", {})
    if request["method"] == "session.sendAndWait":
        answer(request["id"], {"completionEventId": idle["id"], "response": message, "aborted": False})


def main() -> None:
    log({"argv": sys.argv[1:], "cwd": os.getcwd()})
    waiting_for_permission: dict[str, Any] | None = None
    while (request := read_message()) is not None:
        log(request)
        method = request.get("method")
        if "id" not in request:
            continue  # a notification
        if method == "connect":
            answer(request["id"], {"ok": True, "protocolVersion": 3, "version": "0.0.0-fake"})
        elif method == "session.create":
            answer(request["id"], {"sessionId": request["params"]["sessionId"], "workspacePath": None})
        elif method == "session.sendAndWait" and MODE == "legacy":
            write(
                {
                    "jsonrpc": "2.0",
                    "id": request["id"],
                    "error": {"code": -32601, "message": f"Unhandled method {method}"},
                }
            )
        elif method == "session.send" and MODE == "legacy":
            answer(request["id"], {"messageId": "message-1"})
            reply(request)
        elif method == "session.sendAndWait":
            if MODE == "die":
                sys.exit(3)
            if MODE == "slow":
                continue
            if MODE == "refuse":
                write(
                    {
                        "jsonrpc": "2.0",
                        "id": request["id"],
                        "error": {"code": -32000, "message": "model gpt-5-fake is not available"},
                    }
                )
                continue
            if MODE == "permission":
                waiting_for_permission = request
                event(
                    request["params"]["sessionId"],
                    "permission.requested",
                    {
                        "requestId": "permission-1",
                        "permissionRequest": {
                            "kind": "url",
                            "intention": "fetch a page",
                            "url": "https://example.invalid/",
                        },
                    },
                )
                continue
            reply(request)
        elif method == "session.permissions.handlePendingPermissionRequest":
            answer(request["id"], {"success": True})
            if waiting_for_permission is not None:
                reply(waiting_for_permission)
                waiting_for_permission = None
        elif method == "session.abort":
            answer(request["id"], {})
        elif method == "session.detach":
            answer(request["id"], {"success": True})
        elif method == "runtime.shutdown":
            answer(request["id"], {})
        else:
            write(
                {
                    "jsonrpc": "2.0",
                    "id": request["id"],
                    "error": {"code": -32601, "message": f"Unhandled method {method}"},
                }
            )


if __name__ == "__main__":
    main()

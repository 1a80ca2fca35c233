"""A wire-protocol fake of the vendors' APIs on 127.0.0.1, for the tests and `orkestra bench`.

The real SDKs talk to it over real HTTP, so every layer of theirs runs: request
building, headers, response parsing, their error classes. Each test scripts
what the server does next; the server records every request it received.

Endpoints:
- Anthropic: POST /v1/messages
- OpenAI and OpenAI-compatible (Grok, Ollama): POST .../chat/completions, streamed as
  server-sent events when the request asks for a stream
- Gemini: POST .../models/{model}:generateContent
- The models lists: GET /v1/models (Anthropic's shape when the request carries
  `anthropic-version`, Gemini's when it carries `x-goog-api-key`, else OpenAI's, as
  Ollama serves it too); they offer `offered_models`, or answer `models_reply` when set.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from orkestra_tui.bench.fake_structured import structured_output_problem


@dataclass
class Reply:
    """What the server does for one request."""

    text: str = "Hello from the fake."
    status: int = 200
    body: Any = None
    """The JSON body to send instead of the usual one: for an error status (default: the vendor's
    usual error shape), or for 200 an answer of the wrong shape."""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    garbled: bool = False
    """Answer 200 with a body that is not JSON."""
    drop: bool = False
    """Close the connection without answering (a stream: after its first piece)."""
    cut_off: bool = False
    """Answer with the vendor's stop reason for an answer stopped by its token limit
    (`length`, `max_tokens`, `MAX_TOKENS`)."""
    stall: bool = False
    """Answer nothing until the client closes the connection (or the server stops), as a model
    still generating; the request is then added to `hung_up`."""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any


class WireFake:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.received: list[Received] = []
        self.responder: Callable[[Received], Reply] | None = None
        """When set, answers every request from what it holds, instead of the scripted replies."""
        self.refusals: list[str] = []
        """The 400s sent for a malformed structured-output parameter (`fake_structured`)."""
        self.offered_models: list[str] = ["fake-model"]
        """The model ids the models lists offer."""
        self.models_reply: Reply | None = None
        """When set, what the models lists answer instead (an error status, a wrong shape)."""
        self.hung_up: list[Received] = []
        """The stalled requests whose client closed the connection."""
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def then(self, *replies: Reply) -> WireFake:
        self.replies.extend(replies)
        return self

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def _next(self) -> Reply:
        return self.replies.popleft() if self.replies else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, with no delayed-ACK stall

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = raw.decode(errors="replace")
                received = Received(self.path, dict(self.headers.items()), body)
                fake.received.append(received)
                refused = structured_output_problem(self.path, body)
                if refused is not None:  # a malformed structured-output parameter: the API's own 400
                    fake.refusals.append(refused[1])
                    self._send(400, json.dumps(_refusal_body(self.path, *refused)).encode(), {})
                    return
                reply = fake.responder(received) if fake.responder is not None else fake._next()
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                streamed = isinstance(body, dict) and body.get("stream") is True
                if reply.stall and not streamed:
                    self._stall_until_closed(received)
                    return
                if reply.drop and not streamed:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if reply.garbled:
                    self._send(200, b'{"id": "msg_1", "content": [ {"type": "te', {})
                    return
                if reply.status != 200:
                    error = reply.body if reply.body is not None else _error_body(self.path, reply.status)
                    self._send(reply.status, json.dumps(error).encode(), reply.headers)
                    return
                answer = reply.body if reply.body is not None else _success_body(self.path, body, reply.text)
                if reply.cut_off and reply.body is None:
                    _cut_off(self.path, answer)
                chunks = _chunks(answer, body) if streamed else None
                if chunks is not None:
                    self._stream(chunks, reply, received)
                    return
                self._send(200, json.dumps(answer).encode(), reply.headers)

            def do_GET(self) -> None:
                fake.received.append(Received(self.path, dict(self.headers.items()), None))
                path = self.path.split("?", maxsplit=1)[0]
                shape = "anthropic" if "anthropic-version" in self.headers else "openai"
                if "x-goog-api-key" in self.headers:
                    shape = "gemini"
                reply = fake.models_reply or Reply()
                if not path.endswith("/models"):
                    reply = Reply(status=404)
                if reply.status != 200:
                    error = reply.body if reply.body is not None else _models_error(shape, reply.status)
                    self._send(reply.status, json.dumps(error).encode(), reply.headers)
                    return
                listing = reply.body if reply.body is not None else _models_body(shape, fake.offered_models)
                self._send(200, json.dumps(listing).encode(), reply.headers)

            def _stream(self, chunks: list[dict[str, Any]], reply: Reply, received: Received) -> None:
                """Server-sent events, as OpenAI-compatible servers stream: one chunk, then (unless
                stalling, as a model still generating) the rest and `[DONE]`; the connection closes."""
                self.close_connection = True
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                events = [f"data: {json.dumps(chunk)}\n\n".encode() for chunk in chunks]
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(events[0])
                    self.wfile.flush()
                    if reply.stall:
                        self._stall_until_closed(received)
                        return
                    if reply.drop:
                        self.connection.shutdown(2)
                        return
                    for event in events[1:]:
                        self.wfile.write(event)
                    self.wfile.write(b"data: [DONE]\n\n")

            def _stall_until_closed(self, received: Received) -> None:
                """Wait, sending nothing, until the client hangs up: a read of the socket finds its end."""
                self.close_connection = True
                while not fake._stopping.is_set():
                    readable, _, _ = select.select([self.connection], [], [], 0.05)
                    if not readable:
                        continue
                    try:
                        data = self.connection.recv(1, socket.MSG_PEEK)
                    except OSError:
                        data = b""
                    if not data:
                        fake.hung_up.append(received)
                        return
                    return  # the client sent more (not expected of an SDK): stop stalling

            def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)  # the client may have given up waiting (a timeout test)

        return Handler


def _success_body(path: str, request: Any, text: str) -> dict[str, Any]:
    model = request.get("model", "fake-model") if isinstance(request, dict) else "fake-model"
    if path.endswith("/messages"):
        return {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 12, "output_tokens": 5},
        }
    if path.endswith("/chat/completions"):
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
        }
    if ":generateContent" in path:
        return {
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 5, "totalTokenCount": 17},
            "modelVersion": path.rsplit("/models/", maxsplit=1)[-1].split(":", maxsplit=1)[0],
        }
    return {"error": {"message": f"no such endpoint {path}"}}


def _models_body(shape: str, model_ids: list[str]) -> dict[str, Any]:
    """A models list in one vendor's shape, on one page."""
    if shape == "anthropic":
        return {
            "data": [
                {"type": "model", "id": model, "display_name": model, "created_at": "2026-01-01T00:00:00Z"}
                for model in model_ids
            ],
            "has_more": False,
            "first_id": model_ids[0] if model_ids else None,
            "last_id": model_ids[-1] if model_ids else None,
        }
    if shape == "gemini":
        return {
            "models": [
                {
                    "name": f"models/{model}",
                    "displayName": model,
                    "supportedActions": ["generateContent", "countTokens"],
                }
                for model in model_ids
            ]
        }
    return {
        "object": "list",
        "data": [{"id": model, "object": "model", "created": 0, "owned_by": "fake"} for model in model_ids],
    }


def _models_error(shape: str, status: int) -> dict[str, Any]:
    path = {"anthropic": "/v1/messages", "gemini": "/models/fake:generateContent"}.get(shape, "/models")
    return _error_body(path, status)


def _chunks(answer: Any, request: dict[str, Any]) -> list[dict[str, Any]] | None:
    """A chat completion as the chunks of its stream (usage last, when asked for); None for a
    body of another shape, which is sent as it is."""
    try:
        choice = answer["choices"][0]
        text, finish_reason = str(choice["message"]["content"] or ""), choice["finish_reason"]
        head = {"id": answer["id"], "object": "chat.completion.chunk", "created": 0, "model": answer["model"]}
    except (TypeError, KeyError, IndexError):
        return None
    pieces = [text[start : start + 8] for start in range(0, len(text), 8)] or [""]
    chunks = [
        {
            **head,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}
            ],
        }
        for piece in pieces
    ]
    chunks.append({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": finish_reason}]})
    if (request.get("stream_options") or {}).get("include_usage"):
        chunks.append({**head, "choices": [], "usage": answer.get("usage")})
    return chunks


def _cut_off(path: str, answer: dict[str, Any]) -> None:
    """Mark a success body as stopped by its token limit, in the vendor's own words."""
    if path.endswith("/messages"):
        answer["stop_reason"] = "max_tokens"
    elif path.endswith("/chat/completions"):
        answer["choices"][0]["finish_reason"] = "length"
    elif ":generateContent" in path:
        answer["candidates"][0]["finishReason"] = "MAX_TOKENS"


def _error_body(path: str, status: int) -> dict[str, Any]:
    message = f"fake error {status}"
    if path.endswith("/messages"):
        kinds = {401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}
        return {"type": "error", "error": {"type": kinds.get(status, "api_error"), "message": message}}
    if ":generateContent" in path:
        return {"error": {"code": status, "message": message, "status": "UNAVAILABLE"}}
    return {"error": {"message": message, "type": "server_error", "code": status}}


def _refusal_body(path: str, parameter: str, message: str) -> dict[str, Any]:
    """A vendor's 400 for an invalid parameter, its message naming the parameter."""
    if path.endswith("/messages"):
        return {"type": "error", "error": {"type": "invalid_request_error", "message": message}}
    if ":generateContent" in path:
        return {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
    return {"error": {"message": message, "type": "invalid_request_error", "param": parameter, "code": None}}


@contextmanager
def serving() -> Iterator[WireFake]:
    fake = WireFake()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()

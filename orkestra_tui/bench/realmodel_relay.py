"""A recording relay between Orkestra and a real model server, for the real-model measurement.

It passes each HTTP exchange through byte for byte and notes what it saw:
whether the request was a repair (it carries one of the agent's own earlier
answers, as an `assistant` turn), the answer's `finish_reason`, and whether
the client gave up before the answer came (the relay then closes its side
too, so the server sees the request cancelled, as it would without a relay).
Each exchange goes over its own upstream connection with `Connection: close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

HEADER_END = b"\r\n\r\n"
MAX_HEADER_BYTES = 64 * 1024


@dataclass
class Exchange:
    """One request through the relay, and what became of it."""

    phase: str
    path: str
    repair: bool
    """The request carries an earlier answer of the agent (an `assistant` turn): a repair request."""
    max_tokens: int | None
    response_format: str
    status: int = 0
    finish_reason: str = ""
    abandoned: bool = False
    """The client closed its connection before the answer came."""
    answer_chars: int = 0
    latency_s: float = 0.0


STOP_GRACE_S = 5.0
"""How long a stopping relay waits for exchanges under way to finish before cutting them off."""


class Relay:
    """Relays 127.0.0.1:<port> to `upstream` (host, port), recording every exchange."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.exchanges: list[Exchange] = []
        self.phase = ""
        """What the driver is doing now (`vote`, `plan`, `run`); each exchange is filed under it."""
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="relay")

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        )
        self._server = started.result(timeout=30)

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            # An exchange whose answer the client already has may still be finishing (the server
            # closing its side): it gets a moment to be recorded. Exchanges still under way after
            # that (the measurement was interrupted) end with the relay.
            pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            if pending:
                _done, pending_set = await asyncio.wait(pending, timeout=STOP_GRACE_S)
                pending = list(pending_set)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    def exchanges_of(self, phase: str) -> list[Exchange]:
        with self._lock:
            return [exchange for exchange in self.exchanges if exchange.phase == phase]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(HEADER_END)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        request_line, headers = _head(head)
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        exchange = _exchange(self.phase, request_line, body)
        started = time.monotonic()
        response = b""
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        try:
            upstream_writer.write(_closing(head.rstrip(b"\r\n")) + HEADER_END + body)
            await upstream_writer.drain()
            answer = asyncio.ensure_future(self._relay_answer(upstream_reader, writer))
            # Anything more from the client, or its end, while the answer is pending means it gave up.
            gone = asyncio.ensure_future(reader.read(1))
            done, _ = await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
            if answer in done:
                response = answer.result()
                gone.cancel()
            else:
                exchange.abandoned = True
                answer.cancel()
        except ConnectionError:
            exchange.abandoned = True
        finally:
            upstream_writer.close()
            with contextlib.suppress(ConnectionError):
                writer.close()
        exchange.latency_s = time.monotonic() - started
        _note_answer(exchange, response)
        with self._lock:
            self.exchanges.append(exchange)

    @staticmethod
    async def _relay_answer(upstream: asyncio.StreamReader, client: asyncio.StreamWriter) -> bytes:
        """Copies the server's whole answer to the client as it comes (saying the connection
        closes after it, since the relay closes it); returns the answer as the server sent it."""
        received = bytearray()
        head_sent = False
        while chunk := await upstream.read(65536):
            received += chunk
            if head_sent:
                client.write(chunk)
            elif HEADER_END in received:
                head, _, rest = bytes(received).partition(HEADER_END)
                client.write(_closing(head) + HEADER_END + rest)
                head_sent = True
            await client.drain()
        if not head_sent:
            client.write(bytes(received))
        return bytes(received)


@contextmanager
def relaying(upstream_url: str) -> Iterator[Relay]:
    """A started relay to `upstream_url` (http://host:port), stopped on leaving."""
    address = upstream_url.split("://", 1)[-1].rstrip("/")
    host, _, port = address.rpartition(":")
    relay = Relay(host, int(port))
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()


def _head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _closing(head: bytes) -> bytes:
    """A header block with `Connection: close` in place of any connection header."""
    lines = head.decode("latin-1").split("\r\n")
    kept = [line for line in lines[1:] if not line.lower().startswith(("connection:", "keep-alive:"))]
    return "\r\n".join([lines[0], *kept, "Connection: close"]).encode("latin-1")


def _exchange(phase: str, request_line: str, body: bytes) -> Exchange:
    parts = request_line.split(" ")
    path = parts[1] if len(parts) > 1 else ""
    try:
        request: Any = json.loads(body) if body else {}
    except ValueError:
        request = {}
    if not isinstance(request, dict):
        request = {}
    messages = request.get("messages")
    repair = isinstance(messages, list) and any(
        isinstance(message, dict) and message.get("role") == "assistant" for message in messages
    )
    limit = request.get("max_tokens", request.get("max_completion_tokens"))
    response_format = request.get("response_format")
    return Exchange(
        phase=phase,
        path=path,
        repair=repair,
        max_tokens=limit if isinstance(limit, int) else None,
        response_format=str(response_format.get("type", "")) if isinstance(response_format, dict) else "",
    )


def _note_answer(exchange: Exchange, response: bytes) -> None:
    """The status, finish_reason and answer length of a relayed answer (plain JSON or a stream)."""
    head, _, body = response.partition(HEADER_END)
    if not head:
        return
    status_line, headers = _head(head + HEADER_END)
    parts = status_line.split(" ")
    exchange.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunked(body)
    text = body.decode("utf-8", "replace")
    documents = (
        [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
        if "text/event-stream" in headers.get("content-type", "")
        else [text]
    )
    for document in documents:
        try:
            answer = json.loads(document)
        except ValueError:
            continue
        for choice in answer.get("choices") or () if isinstance(answer, dict) else ():
            if not isinstance(choice, dict):
                continue
            exchange.finish_reason = str(choice.get("finish_reason") or exchange.finish_reason)
            content = (choice.get("message") or choice.get("delta") or {}).get("content")
            exchange.answer_chars += len(content) if isinstance(content, str) else 0


def _dechunked(body: bytes) -> bytes:
    data = bytearray()
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        data += rest[:size]
        body = rest[size + 2 :]
    return bytes(data)

"""Telemetry in real processes: the SDK never imported without an OTLP endpoint, one warning line
without the extra, and a real `orkestra vote` exporting over OTLP/HTTP to a receiver served here."""

from __future__ import annotations

import gzip
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
)
QUESTION = "Which database should back the ledger?"
OPTIONS = ("--option", "SQLite: simple, safe and tested", "--option", "PostgreSQL")
"""With seed 0 the five simulated agents agree on the first in round 1 (as in test_vote_command)."""
SECRET = "sk-test-telemetry-export-0123456789"
"""Shaped like a key: redacted wherever it is found."""

SAY_MODULES = """
otel = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
sys.stderr.write("MODULES " + json.dumps(otel) + "\\n")
sys.exit(status)
"""
"""The end of a process run here: it says which OpenTelemetry modules it imported."""
RUN_COMMAND = (
    """
import json, sys
{prelude}
from orkestra_tui.cli import main
status = main({arguments!r})
"""
    + SAY_MODULES
)
"""A command run in a process of its own."""
NO_SDK = "sys.modules['opentelemetry'] = None  # as if the otel extra were not installed"
OPEN_APP = """
import argparse, json, sys
from orkestra_tui.cli import run_tui
status = run_tui(argparse.Namespace(data_dir={home!r}), headless=True, on_ready=lambda app: app.exit())
"""


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "config.toml").write_text("[simulation]\nseed = 0\nlatency_ms = 0\n", encoding="utf-8")
    return tmp_path


def environment(**variables: str) -> dict[str, str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    return {**clean, "COLUMNS": "200", **variables}


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False, env=env
    )


def vote_code(home: Path, prelude: str = "") -> str:
    arguments = ["vote", "--data-dir", str(home), QUESTION, *OPTIONS, "--tie-break", "first", "--json"]
    return RUN_COMMAND.format(prelude=prelude, arguments=arguments)


def imported_modules(stderr: str) -> list[str]:
    line = next(line for line in stderr.splitlines() if line.startswith("MODULES "))
    modules: list[str] = json.loads(line.removeprefix("MODULES "))
    return modules


# ------------------------------------------------------------------ off, and without the extra


def test_without_an_endpoint_a_vote_never_imports_the_sdk(home: Path) -> None:
    result = run_python(vote_code(home), environment())
    assert result.returncode == 0, result.stderr
    assert imported_modules(result.stderr) == []
    assert json.loads(result.stdout)["status"] == "decided"


def test_without_an_endpoint_the_app_never_imports_the_sdk(home: Path) -> None:
    result = run_python(OPEN_APP.format(home=str(home)) + SAY_MODULES, environment())
    assert result.returncode == 0, result.stderr
    assert imported_modules(result.stderr) == []


@pytest.mark.parametrize("variable", ENDPOINT_VARIABLES)
def test_an_endpoint_without_the_extra_is_one_warning_line_and_the_vote_goes_on(
    home: Path, variable: str
) -> None:
    result = run_python(vote_code(home, NO_SDK), environment(**{variable: "http://127.0.0.1:9"}))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line or "OTEL" in line]
    assert warnings == [
        f"orkestra: warning: {variable} is set, but the OpenTelemetry SDK is not installed: nothing is"
        " exported (pip install 'orkestra-tui[otel]')"
    ]
    assert json.loads(result.stdout)["status"] == "decided"


def test_the_app_without_the_extra_writes_its_warning_to_the_log(home: Path) -> None:
    code = "import sys\n" + NO_SDK + OPEN_APP.format(home=str(home)) + SAY_MODULES
    result = run_python(code, environment(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9"))
    assert result.returncode == 0, result.stderr
    assert "OpenTelemetry" not in result.stderr + result.stdout
    log = (home / "logs" / "orkestra.log").read_text(encoding="utf-8")
    assert log.splitlines() == [
        "warning: OTEL_EXPORTER_OTLP_ENDPOINT is set, but the OpenTelemetry SDK is not installed: nothing"
        " is exported (pip install 'orkestra-tui[otel]')"
    ]


# ------------------------------------------------------------------ end to end over OTLP/HTTP


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP endpoint: keeps every request body by its path."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.received: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class ReceiverHandler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with self.server.lock:
            self.server.received.setdefault(self.path, []).append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


def received_spans(receiver: Receiver) -> list[dict[str, Any]]:
    spans = []
    for body in receiver.received.get("/v1/traces", []):
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_spans:
            service = {item.key: value_of(item.value) for item in resource.resource.attributes}
            assert service["service.name"] == "orkestra"
            for scope in resource.scope_spans:
                assert scope.scope.name == "orkestra"
                for span in scope.spans:
                    spans.append(
                        {
                            "name": span.name,
                            "id": span.span_id,
                            "parent": span.parent_span_id,
                            "attributes": {item.key: value_of(item.value) for item in span.attributes},
                        }
                    )
    return spans


def received_metrics(receiver: Receiver) -> dict[str, list[Any]]:
    metrics: dict[str, list[Any]] = {}
    for body in receiver.received.get("/v1/metrics", []):
        request = ExportMetricsServiceRequest()
        request.ParseFromString(body)
        for resource in request.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    kind = metric.WhichOneof("data")
                    metrics.setdefault(metric.name, []).extend(getattr(metric, kind).data_points)
    return metrics


def test_a_real_vote_exports_its_span_tree_and_metrics_over_otlp_http(home: Path, receiver: Receiver) -> None:
    question = f"Which database should back the ledger (key {SECRET})?"
    arguments = ["vote", "--data-dir", str(home), question, *OPTIONS, "--tie-break", "first", "--json"]
    code = RUN_COMMAND.format(prelude="", arguments=arguments)
    config = "[simulation]\nseed = 0\nlatency_ms = 0\n\n[telemetry]\ncapture_content = true\n"
    (home / "config.toml").write_text(config, encoding="utf-8")
    env = environment(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url)

    result = run_python(code, env)

    assert result.returncode == 0, result.stderr
    assert "opentelemetry.sdk.trace" in imported_modules(result.stderr)
    decided = json.loads(result.stdout)
    spans = received_spans(receiver)
    by_id = {span["id"]: span for span in spans}
    (vote,) = [span for span in spans if span["name"] == "vote"]
    assert vote["parent"] == b""
    assert vote["attributes"]["orkestra.decision.status"] == "decided"
    assert vote["attributes"]["orkestra.decision.winner"] == decided["winner"]
    assert vote["attributes"]["orkestra.decision.method"] == "majority"
    (round_span,) = [span for span in spans if span["name"] == "round"]
    assert by_id[round_span["parent"]] is vote
    assert round_span["attributes"]["orkestra.decision.round"] == 1
    ballots = [span for span in spans if span["name"] == "ballot"]
    assert len(ballots) == 5
    assert all(by_id[span["parent"]] is round_span for span in ballots)
    calls = [span for span in spans if span["name"].startswith("chat ")]
    assert len(calls) == len(ballots)
    assert all(by_id[span["parent"]]["name"] == "ballot" for span in calls)
    first = calls[0]["attributes"]
    assert first["gen_ai.operation.name"] == "chat"
    assert first["gen_ai.system"] and first["gen_ai.request.model"]
    assert first["orkestra.simulated"] is True
    assert first["gen_ai.usage.input_tokens"] > 0 and first["gen_ai.usage.output_tokens"] > 0
    assert "orkestra.cost_usd" in first and "orkestra.agent" in first
    assert "(key [redacted])" in first["gen_ai.input.messages"]
    assert SECRET not in json.dumps([span["attributes"] for span in spans])
    metrics = received_metrics(receiver)
    calls_counted = sum(point.as_int for point in metrics["orkestra.calls"])
    assert calls_counted == len(calls)
    assert "gen_ai.client.operation.duration" in metrics
    assert "gen_ai.client.token.usage" in metrics


def test_an_endpoint_that_does_not_answer_is_one_warning_line_and_the_vote_goes_on(home: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_python(vote_code(home), environment(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{port}"))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1
    assert warnings[0].startswith("orkestra: warning: telemetry not exported: ")
    assert json.loads(result.stdout)["status"] == "decided"


def span_path(span: dict[str, Any], by_id: dict[bytes, dict[str, Any]]) -> str:
    """A span's name and its ancestors', `call <- ballot <- round <- vote`; a model call is `call`."""
    names = []
    current: dict[str, Any] | None = span
    while current is not None:
        names.append("call" if current["name"].startswith("chat ") else current["name"])
        current = by_id.get(current["parent"])
    return " <- ".join(names)


def test_a_real_plan_and_run_export_their_span_trees_over_otlp_http(home: Path, receiver: Receiver) -> None:
    env = environment(OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url)
    brief = ["--name", "Shop", "--description", "A small shop.", "--involvement", "1", "--tie-break", "first"]
    for command, *arguments in (["plan", *brief, "--yes"], ["run", "--until-done"]):
        code = RUN_COMMAND.format(prelude="", arguments=[command, "--data-dir", str(home), *arguments])
        result = run_python(code, env)
        assert result.returncode == 0, result.stderr

    spans = received_spans(receiver)
    by_id = {span["id"]: span for span in spans}
    paths = {span_path(span, by_id) for span in spans}
    assert {
        "call <- proposals <- plan",
        "call <- ballot <- round <- vote <- plan",
        "call <- synthesis <- plan",
        "call <- attempt <- task <- run",
        "call <- review <- attempt <- task <- run",
    } <= paths
    tasks = [span for span in spans if span["name"] == "task"]
    assert tasks and {span["attributes"]["orkestra.task.status"] for span in tasks} == {"done"}
    counted = received_metrics(receiver)["orkestra.tasks"]
    assert sum(point.as_int for point in counted) == len(tasks)

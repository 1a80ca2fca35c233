"""The OpenTelemetry SDK behind `telemetry`: spans and metrics, exported over OTLP/HTTP.

Imported only when telemetry is turned on (an OTLP endpoint variable is set),
never at start-up otherwise. `exporting` builds the SDK's providers with the
OTLP/HTTP exporters, which read the standard OTEL_* variables themselves (endpoint,
headers, timeout); tests build an `OtelBackend` over in-memory exporters instead.
The SDK shuts its providers down at exit, exporting what is left.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, Status, StatusCode, TracerProvider

INSTRUMENTATION_NAME = "orkestra"
EXPORT_TIMEOUT_S = 3.0
"""How long one export may take, retries included, unless OTEL_EXPORTER_OTLP_TIMEOUT says."""

AttributeValue = str | bool | int | float
Attributes = Mapping[str, AttributeValue]


class OtelBackend:
    """Spans and measurements through one tracer provider and one meter provider."""

    def __init__(
        self,
        tracer_provider: TracerProvider,
        meter_provider: MeterProvider,
        *,
        capture_content: bool = False,
    ) -> None:
        from orkestra_tui import __version__

        self.capture_content = capture_content
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.tracer = tracer_provider.get_tracer(INSTRUMENTATION_NAME, __version__)
        meter = meter_provider.get_meter(INSTRUMENTATION_NAME, __version__)
        self.calls = meter.create_counter("orkestra.calls", "{call}", "Model calls made, per agent")
        self.errors = meter.create_counter(
            "orkestra.call.errors", "{call}", "Model calls that failed, per agent and error type"
        )
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration", "s", "How long a model call took"
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage", "{token}", "Tokens a model call used, by gen_ai.token.type"
        )
        self.cost = meter.create_counter("orkestra.cost", "USD", "What the model calls cost, per agent")
        self.tasks = meter.create_counter(
            "orkestra.tasks", "{task}", "Pieces of task work ended, by the status the task ended in"
        )

    @contextmanager
    def span(self, name: str, attributes: Attributes) -> Iterator[Span]:
        """A span, current for the block; an exception marks it failed with its type (never its text)."""
        with self.tracer.start_as_current_span(
            name, attributes=dict(attributes), record_exception=False, set_status_on_exception=False
        ) as current:
            try:
                yield current
            except BaseException as error:
                current.set_attribute("error.type", type(error).__name__)
                current.set_status(Status(StatusCode.ERROR))
                raise

    def finished_span(
        self, name: str, attributes: Attributes, *, start_ns: int, end_ns: int, error_type: str
    ) -> None:
        """A span that already ended (a model call), child of the current one."""
        current = self.tracer.start_span(name, attributes=dict(attributes), start_time=start_ns)
        if error_type:
            current.set_status(Status(StatusCode.ERROR))
        current.end(end_time=end_ns)

    def count_call(
        self,
        attributes: Attributes,
        *,
        latency_s: float,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float,
        error_type: str,
    ) -> None:
        measured = dict(attributes)
        self.calls.add(1, measured)
        if error_type:
            self.errors.add(1, {**measured, "error.type": error_type})
        self.duration.record(latency_s, {**measured, "error.type": error_type} if error_type else measured)
        self.tokens.record(tokens_in, {**measured, "gen_ai.token.type": "input"})
        self.tokens.record(tokens_out, {**measured, "gen_ai.token.type": "output"})
        self.cost.add(cost_usd, measured)

    def count_task(self, attributes: Attributes) -> None:
        self.tasks.add(1, dict(attributes))

    def shutdown(self) -> None:
        for provider in (self.tracer_provider, self.meter_provider):
            shutdown = getattr(provider, "shutdown", None)
            if callable(shutdown):
                shutdown()


class FirstLineOnStderr(logging.Handler):
    """The SDK's first complaint (an endpoint that does not answer), as one line on stderr; no more.

    The exporters retry and complain at each try: a command says so once and goes on.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.said = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.said:
            return
        self.said = True
        from orkestra_tui.secrets import redact

        text = " ".join(redact(record.getMessage()).split())
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"orkestra: warning: telemetry not exported: {text[:300]}\n")


def exporting(*, capture_content: bool, log_file: Path | None = None) -> OtelBackend:
    """The backend that exports over OTLP/HTTP to the endpoints the OTEL_* variables name.

    Traces are exported if OTEL_EXPORTER_OTLP_ENDPOINT or its traces variable is
    set, metrics likewise. The SDK's own complaints (an endpoint that does not
    answer) go to `log_file` when given (the app, whose terminal is the screen),
    else to stderr.
    """
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
    from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from orkestra_tui import __version__

    sdk_log = logging.getLogger("opentelemetry")
    sdk_log.addHandler(logging.FileHandler(log_file, delay=True) if log_file else FirstLineOnStderr())
    sdk_log.propagate = False
    common = bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    # An endpoint that does not answer holds the exit up for the exporters' whole timeout (10 s by
    # default, each): shorter unless the user chose one.
    timeout = None if os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT") else EXPORT_TIMEOUT_S
    resource_attributes: dict[str, AttributeValue] = {"service.version": __version__}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        resource_attributes["service.name"] = "orkestra"
    resource = Resource.create(resource_attributes)
    tracer_provider = SdkTracerProvider(resource=resource)
    if common or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(timeout=timeout)))
    readers: list[MetricReader] = []
    if common or os.environ.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"):
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(timeout=timeout)))
    meter_provider = SdkMeterProvider(metric_readers=readers, resource=resource)
    return OtelBackend(tracer_provider, meter_provider, capture_content=capture_content)

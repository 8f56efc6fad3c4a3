"""OpenTelemetry tracing: off (and not even imported) by default, spans per request when on."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from service.entrypoints.http.app import create_app
from service.entrypoints.http.tracing import install_tracing, tracing_wanted
from service.entrypoints.logs import JsonFormatter
from tests.entrypoints.http.conftest import KEYS, app_client, make_settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    yield spans
    HTTPXClientInstrumentor().uninstrument()


def test_off_by_default_and_the_libraries_are_an_optional_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("opentelemetry")]
    assert any(d.startswith("opentelemetry-sdk") for d in project["optional-dependencies"]["otel"])
    # A fresh process builds the app without loading the SDK, exporters or instrumentation
    # (FastAPI itself imports the small `opentelemetry` API package when it is installed).
    script = (
        "import sys; from service.entrypoints.http.app import create_app; "
        "from service.config import ServiceSettings; create_app(ServiceSettings(_env_file=None)); "
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk', "
        "'opentelemetry.exporter', 'opentelemetry.instrumentation'))))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "  "}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_the_standard_variables_switch_it_on(environ: dict[str, str], wanted: bool) -> None:
    assert tracing_wanted(environ) is wanted


def test_an_endpoint_in_the_environment_adds_the_tracing_middleware(
    monkeypatch: pytest.MonkeyPatch, exporter: InMemorySpanExporter
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    app = create_app(make_settings())
    assert OpenTelemetryMiddleware in [m.cls for m in app.user_middleware]


async def test_each_request_is_a_span_and_its_log_line_carries_the_trace_id(
    store: object, clock: object, catalogue: None, exporter: InMemorySpanExporter
) -> None:
    app = create_app(make_settings(**KEYS), store=store, clock=clock)  # type: ignore[arg-type]
    provider = install_tracing(app, {}, exporter=exporter)
    assert provider is not None
    lines: list[dict[str, object]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(JsonFormatter().format(record)))

    handler = Collect()
    request_logger = logging.getLogger("stocksync.request")
    request_logger.addHandler(handler)
    request_logger.setLevel(logging.INFO)
    try:
        async with app_client(app) as client:
            client: httpx.AsyncClient  # type: ignore[no-redef]
            answer = await client.get("/api/stock-status", params={"productIds": "railcam"})
            assert answer.status_code == 200
    finally:
        request_logger.removeHandler(handler)
        request_logger.setLevel(logging.NOTSET)
    provider.force_flush()
    servers = [s for s in exporter.get_finished_spans() if s.kind.name == "SERVER"]
    assert len(servers) == 1
    span = servers[0]
    assert span.resource.attributes["service.name"] == "stocksync"
    assert span.name == "GET /api/stock-status"
    assert span.attributes is not None and span.attributes["http.status_code"] == 200
    assert lines[-1]["trace_id"] == format(span.context.trace_id, "032x")

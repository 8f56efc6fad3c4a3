"""Optional OpenTelemetry tracing, off by default and free when off.

On when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set (and
`OTEL_SDK_DISABLED` is not `true`): every request becomes a server span and every call to
Sanity or Stripe's API (httpx) a client span under it, exported over OTLP/HTTP in batches.
The exporter reads the standard `OTEL_*` variables itself (headers, timeout, ...);
`OTEL_SERVICE_NAME` defaults to `stocksync`. The libraries are the optional `otel` extra
(`uv sync --extra otel`): when tracing is off nothing of OpenTelemetry is imported, so the
runtime dependencies stay as they are.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

logger = logging.getLogger("stocksync.tracing")

TRIGGERS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_wanted(environ: Mapping[str, str]) -> bool:
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name, "").strip() for name in TRIGGERS)


def install_tracing(
    app: FastAPI,
    environ: Mapping[str, str] = os.environ,
    *,
    exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """Trace `app` when the environment asks for it (or an `exporter` is given, in tests).

    Must run before the app starts (it adds the outermost middleware). Returns the tracer
    provider, or None when tracing is off.
    """
    if exporter is None and not tracing_wanted(environ):
        return None
    try:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        logger.warning(
            "tracing is off: OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry "
            "libraries are not installed (uv sync --extra otel, or pip install 'stocksync[otel]')"
        )
        return None
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    name = environ.get("OTEL_SERVICE_NAME") or "stocksync"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    # Outermost, so the request log line (and anything logged while serving) has the span.
    app.add_middleware(OpenTelemetryMiddleware, tracer_provider=provider)
    HTTPXClientInstrumentor().instrument(tracer_provider=provider)
    logger.info("tracing on: spans exported over OTLP as service %r", name)
    return provider

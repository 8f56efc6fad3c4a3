"""Structured logs: one JSON object per line on stderr, for log collectors (Vercel, Docker,
journald, Loki, Datadog ...) to index without parsing prose.

Every line carries `time`, `level`, `logger` and `message`; lines written while a request is
being served carry its `request_id` (see service.entrypoints.http.request_log); an exception adds
`exception` (the traceback, which never reaches an HTTP answer). `STOCKSYNC_LOG_FORMAT=text`
gives classic human-readable lines instead.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

#: The id of the request being served, for every log line written while serving it.
request_id_var: ContextVar[str | None] = ContextVar("stocksync_request_id", default=None)

#: LogRecord attributes that are not a caller's `extra=` fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    # uvicorn's copy of the message with terminal colours.
    "color_message",
}


def _trace_id() -> str | None:
    """The current span's trace id when tracing is on (service.entrypoints.http.tracing), to join
    logs and traces; looked up in sys.modules so logging never imports OpenTelemetry itself."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            line["request_id"] = request_id
        trace_id = _trace_id()
        if trace_id is not None:
            line["trace_id"] = trace_id
        # Fields passed with `extra=` (the request line's method, path, status, ...).
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def logging_config(log_format: Literal["json", "text"], level: str = "info") -> dict[str, Any]:
    """A `logging.config.dictConfig` for stocksync and uvicorn alike.

    uvicorn's own access log is switched off: the request log (one line per request, with
    its id and duration) replaces it.
    """
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if log_format == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "stocksync": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "cms_client": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def configure_logging(log_format: Literal["json", "text"], level: str = "info") -> None:
    logging.config.dictConfig(logging_config(log_format, level))

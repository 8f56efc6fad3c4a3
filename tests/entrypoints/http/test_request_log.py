"""One JSON log line per request, with the id the answer carries as `X-Request-Id`."""

from __future__ import annotations

import json
import logging
import sys

import httpx
import pytest

from service.entrypoints.logs import JsonFormatter, logging_config


@pytest.fixture
def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The request log's lines as the JSON formatter writes them (appended as they come)."""
    caplog.set_level(logging.INFO, logger="stocksync.request")
    formatter = JsonFormatter()
    out: list[dict[str, object]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            out.append(json.loads(formatter.format(record)))

    handler = Collect()
    logging.getLogger("stocksync").addHandler(handler)
    yield out
    logging.getLogger("stocksync").removeHandler(handler)


async def test_every_answer_carries_a_request_id_logged_once_with_its_status(
    client: httpx.AsyncClient, lines: list[dict[str, object]]
) -> None:
    ok = await client.get("/api/health")
    missing = await client.get("/api/no-such-route")
    ids = [ok.headers["x-request-id"], missing.headers["x-request-id"]]
    assert len(set(ids)) == 2 and all(len(i) == 32 for i in ids)
    requests = [line for line in lines if line["logger"] == "stocksync.request"]
    assert [(r["request_id"], r["method"], r["path"], r["status"]) for r in requests] == [
        (ids[0], "GET", "/api/health", 200),
        (ids[1], "GET", "/api/no-such-route", 404),
    ]
    for line in requests:
        assert line["level"] == "info" and isinstance(line["duration_ms"], float)
        assert str(line["time"]).endswith("+00:00")


async def test_a_callers_request_id_is_kept_and_a_hostile_one_replaced(
    client: httpx.AsyncClient, lines: list[dict[str, object]]
) -> None:
    kept = await client.get("/api/health", headers={"X-Request-Id": "edge-7f3a.1"})
    assert kept.headers["x-request-id"] == "edge-7f3a.1"
    replaced = await client.get("/api/health", headers={"X-Request-Id": 'a" b\\' + "x" * 200})
    assert len(replaced.headers["x-request-id"]) == 32
    assert [line["request_id"] for line in lines] == [
        "edge-7f3a.1",
        replaced.headers["x-request-id"],
    ]


async def test_refusals_by_the_outer_guards_are_logged_with_their_id(
    client: httpx.AsyncClient, lines: list[dict[str, object]]
) -> None:
    too_big = await client.post(
        "/api/reserve-stock", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
    )
    assert too_big.status_code == 413 and too_big.headers["x-request-id"]
    assert lines[-1]["status"] == 413 and lines[-1]["request_id"] == too_big.headers["x-request-id"]


def test_lines_written_while_serving_carry_its_id_and_tracebacks_stay_in_logs() -> None:
    from service.entrypoints.logs import request_id_var

    logger = logging.getLogger("stocksync.engine")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logger.makeRecord(
            logger.name, logging.ERROR, "x.py", 1, "failed %s", ("here",), sys.exc_info()
        )
    token = request_id_var.set("r-1")
    try:
        serving = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert serving["request_id"] == "r-1"
    assert serving["message"] == "failed here" and serving["level"] == "error"
    assert "ValueError: boom" in serving["exception"]
    assert "request_id" not in json.loads(JsonFormatter().format(record))


def test_text_format_and_uvicorn_access_log_replaced() -> None:
    config = logging_config("text", "debug")
    assert "format" in config["formatters"]["default"]
    assert config["loggers"]["stocksync"]["level"] == "DEBUG"
    assert config["loggers"]["uvicorn.access"]["handlers"] == []
    assert logging_config("json")["formatters"]["default"]["()"] is JsonFormatter

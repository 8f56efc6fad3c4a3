"""Posting an alert to the webhook URL, with a bounded number of retries.

Connection failures, timeouts, 429 and 5xx answers are retried after a growing wait
(injected `sleep`, so tests never wait); any other answer is final. The outcome says what
happened; nothing here raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

Sleep = Callable[[float], Awaitable[object]]

DEFAULT_ATTEMPTS = 3
DEFAULT_BACKOFF = 0.5
DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class DeliveryOutcome:
    delivered: bool
    attempts: int
    #: Why the last attempt failed (None when delivered).
    error: str | None = None


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class WebhookSender:
    """POSTs JSON to one URL; `transport` lets tests route requests elsewhere."""

    def __init__(
        self,
        url: str,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        backoff: float = DEFAULT_BACKOFF,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.url = url
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self._client = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": "stocksync-alerts"},
            follow_redirects=False,
        )

    async def send(self, payload: dict[str, Any]) -> DeliveryOutcome:
        error = "not sent"
        for attempt in range(1, self.attempts + 1):
            retry = True
            try:
                response = await self._client.post(self.url, json=payload)
            except httpx.HTTPError as exc:
                # The URL is a secret (Slack's carries the token): keep it out of the record.
                text = str(exc).replace(self.url, "<LOW_STOCK_WEBHOOK_URL>")
                error = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
            else:
                if response.is_success:
                    return DeliveryOutcome(delivered=True, attempts=attempt)
                error = f"HTTP {response.status_code}"
                retry = _retryable(response.status_code)
            if not retry:
                return DeliveryOutcome(delivered=False, attempts=attempt, error=error)
            if attempt < self.attempts:
                await self.sleep(self.backoff * 2 ** (attempt - 1))
        return DeliveryOutcome(delivered=False, attempts=self.attempts, error=error)

    async def aclose(self) -> None:
        await self._client.aclose()

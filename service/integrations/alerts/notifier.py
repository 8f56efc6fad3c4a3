"""`LowStockAlerts`: from a committed transaction to a delivered (or logged) message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cms_client.store import DocumentStore, MutationResult
from service.engine import Inventory
from service.integrations.alerts.after_response import defer
from service.integrations.alerts.crossings import Crossing, crossings
from service.integrations.alerts.delivery import DeliveryOutcome, WebhookSender
from service.integrations.alerts.messages import alert_message
from service.integrations.alerts.records import alert_id, record_crossing
from service.integrations.alerts.watched_store import WatchedStore

logger = logging.getLogger("stocksync.alerts")


@dataclass(frozen=True)
class AlertOutcome:
    """A claimed alert and how its delivery went."""

    crossing: Crossing
    payload: dict[str, Any]
    delivery: DeliveryOutcome
    #: The error log written when delivery failed.
    error_log_id: str | None = None


class LowStockAlerts:
    """Watches the engine's transactions and announces lines that run low or out.

    `store` holds the alert documents (the plain store, not the watched one). `errors`
    writes the error log of a failed delivery (the engine's `log_error`); it is set once
    the engine over the watched store exists.
    """

    def __init__(
        self,
        store: DocumentStore,
        sender: WebhookSender,
        *,
        default_threshold: int,
        errors: Inventory | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.default_threshold = default_threshold
        self.errors = errors
        self._tasks: set[asyncio.Task[list[AlertOutcome]]] = set()

    def watch(self, store: DocumentStore) -> WatchedStore:
        """`store`, wrapped so that each committed transaction reaches `observe`."""
        watched = WatchedStore(store)
        watched.subscribe(self.observe)
        return watched

    def observe(self, result: MutationResult) -> None:
        """Find the crossings of a committed transaction and handle them later: after the
        HTTP response when serving a request, else in a task of their own."""
        found = [
            crossing
            for crossing in crossings(result.documents(), self.default_threshold)
            if crossing.is_alert or crossing.is_recovery
        ]
        if not found:
            return

        async def job() -> list[AlertOutcome]:
            return await self.handle(found)

        if not defer(job):
            task = asyncio.get_running_loop().create_task(job())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def handle(self, found: Sequence[Crossing]) -> list[AlertOutcome]:
        """Record each crossing; send the alerts this process claimed. Never raises."""
        outcomes: list[AlertOutcome] = []
        for crossing in found:
            try:
                outcome = await self._handle_one(crossing)
            except Exception:
                logger.exception("low-stock alert for %s failed", crossing.label)
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    async def _handle_one(self, crossing: Crossing) -> AlertOutcome | None:
        if not await record_crossing(self.store, crossing):
            return None
        payload = alert_message(crossing)
        delivery = await self.sender.send(payload)
        if delivery.delivered:
            logger.info("low-stock alert sent: %s", payload["text"])
            return AlertOutcome(crossing, payload, delivery)
        logger.warning(
            "low-stock alert not delivered after %d attempt(s): %s",
            delivery.attempts,
            delivery.error,
        )
        log_id = await self._log_failure(crossing, payload, delivery)
        return AlertOutcome(crossing, payload, delivery, error_log_id=log_id)

    async def _log_failure(
        self, crossing: Crossing, payload: dict[str, Any], delivery: DeliveryOutcome
    ) -> str | None:
        if self.errors is None:
            return None
        return await self.errors.log_error(
            "webhook_processing",
            "medium",
            f"Low-stock alert not delivered to LOW_STOCK_WEBHOOK_URL after "
            f"{delivery.attempts} attempt(s) ({delivery.error}): {payload['text']}",
            details={"alert": payload, "attempts": delivery.attempts, "error": delivery.error},
            product_id=crossing.product_id,
            dedupe_key=f"low-stock-alert:{alert_id(crossing.product_id, crossing.line)}:"
            f"{crossing.after}:{payload['time']}",
        )

    async def drain(self) -> None:
        """Wait for alerts handled outside a request (called at shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        await self.sender.aclose()

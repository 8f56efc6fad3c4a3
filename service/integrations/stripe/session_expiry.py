"""A hold's end ends its Checkout Session, so nobody pays for stock that is no longer held.

A Checkout Session lives 30 minutes to 24 hours (`expires_at`), a hold 30 to 60 minutes:
a customer who pays after the hold ended buys stock that may have been sold again. When a
hold is released or expires and `STRIPE_SECRET_KEY` is set, stocksync expires its session
(`POST /v1/checkout/sessions/{id}/expire`). A session that is already complete or expired
is fine (Stripe answers 400: nothing to do); Stripe failures are retried with tenacity
(`ATTEMPTS`, jittered backoff) and, if they keep failing, recorded as an errorLog: the
customer can still pay, and that payment is then a late commit (or a recorded shortfall).
Only Checkout Session ids (`cs_...`) are expired: a hold a storefront keeps under its own
cart id names no session.

Every way a hold ends goes through `end_checkout_sessions`, always after the store write
that ended it (never inside a transaction): the release API and the cleanup jobs (cron
route, staff route, `stocksync cleanup`) wait for it and report it; a reserve that reclaims
overdue holds hands their sessions to `BackgroundSessionExpiry`, so the buyer's answer does
not wait on Stripe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from pydantic import Field
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from schemas.base import Model
from service.engine import Inventory
from service.integrations.stripe.gateway import StripeGateway, StripeLookupFailed

log = logging.getLogger("stocksync.stripe")

#: Tries per session, the first included.
ATTEMPTS = 3
#: Ceiling of one wait between tries, in seconds.
MAX_WAIT = 4.0
SESSION_PREFIX = "cs_"

Sleep = Callable[[float], Awaitable[object]]


class SessionsEnded(Model):
    """What expiring the sessions of ended holds did."""

    expired: list[str] = Field(default_factory=list, description="Sessions Stripe expired.")
    already_ended: list[str] = Field(
        default_factory=list, description="Already complete, expired or unknown to Stripe."
    )
    failed: list[str] = Field(
        default_factory=list, description="Stripe kept failing: logged for a person."
    )


async def end_checkout_sessions(
    gateway: StripeGateway | None,
    inventory: Inventory,
    session_ids: Iterable[str],
    *,
    sleep: Sleep | None = None,
) -> SessionsEnded:
    report = SessionsEnded()
    if gateway is None:
        return report
    for session_id in dict.fromkeys(session_ids):
        if not session_id.startswith(SESSION_PREFIX):
            continue
        try:
            outcome = await _expire(gateway, session_id, sleep)
        except StripeLookupFailed as exc:
            report.failed.append(session_id)
            await inventory.log_error(
                "webhook_processing",
                "medium",
                f"Could not expire Checkout Session {session_id} at Stripe after its hold "
                f"ended ({exc.message}); the customer can still pay, and that payment would be "
                "a late commit from available stock (or a recorded shortfall). Expire it in the "
                "Stripe Dashboard.",
                details={"sessionId": session_id, "attempts": ATTEMPTS},
                session_id=session_id,
                dedupe_key=f"session-expire-failed:{session_id}",
            )
            continue
        (report.expired if outcome == "expired" else report.already_ended).append(session_id)
    return report


class BackgroundSessionExpiry:
    """Expires the sessions of holds ended inside another operation (a reserve reclaiming
    overdue holds) as tasks of their own, after that operation's write; `drain` waits for
    the ones still running (a process stopping)."""

    def __init__(
        self,
        gateway: Callable[[], StripeGateway | None],
        inventory: Inventory,
        *,
        sleep: Sleep | None = None,
    ) -> None:
        self._gateway = gateway
        self._inventory = inventory
        self._sleep = sleep
        self._tasks: set[asyncio.Task[SessionsEnded]] = set()

    def schedule(self, session_ids: Sequence[str]) -> None:
        """Start expiring these sessions (only `cs_` ids; nothing without a Stripe key)."""
        wanted = [sid for sid in session_ids if sid.startswith(SESSION_PREFIX)]
        if not wanted:
            return
        gateway = self._gateway()
        if gateway is None:
            return
        task = asyncio.get_running_loop().create_task(
            end_checkout_sessions(gateway, self._inventory, wanted, sleep=self._sleep)
        )
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[SessionsEnded]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # Stripe failures are recorded by `end_checkout_sessions`; this is the store
            # failing to take that record.
            log.error("expiring reclaimed holds' sessions failed", exc_info=task.exception())

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


async def _expire(gateway: StripeGateway, session_id: str, sleep: Sleep | None) -> str:
    async def pause(seconds: float) -> None:
        await (sleep or asyncio.sleep)(seconds)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_random_exponential(multiplier=0.5, max=MAX_WAIT),
        retry=retry_if_exception_type(StripeLookupFailed),
        sleep=pause,
        reraise=True,
    )
    outcome: str = await retrying(gateway.expire_session, session_id)
    log.info("Checkout Session %s: %s", session_id, outcome)
    return outcome

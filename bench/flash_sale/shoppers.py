"""The shop's side of a flash sale, over HTTP: seed the stock, buy, then pay or abandon.

Buyer `i` reserves one unit of its product (`hot`, `store-limit`: the one product;
`uncontended`: product `i`) through stocksync process `i mod K`, as a load balancer would
spread them. Each winner then either pays, delivered as Stripe would (a signed
`checkout.session.completed`, re-sent after a 5xx like Stripe's retries, to process
`i + 1 mod K`: a webhook lands on any instance), or abandons the checkout (released through
the storefront API). Every request has a timeout and every phase a deadline.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import httpx
import stripe

from bench.flash_sale.cluster import Keys

Outcome = Literal["won", "refused", "server_error", "other"]

#: Seconds one request may take before it counts as failed.
REQUEST_TIMEOUT = 30.0
#: Deliveries of one payment or release before giving up (Stripe retries for days).
MAX_DELIVERIES = 6
#: Longest wait between two deliveries, whatever Retry-After says.
MAX_REDELIVERY_WAIT = 2.0
#: Payments and releases in flight at once: Stripe delivers a sale's events over minutes,
#: not all in the same instant as the buyers arrived.
SETTLE_IN_FLIGHT = 16
#: Connections per HTTP client. httpcore's pool does work quadratic in its size every time a
#: request starts or ends (1.0.9 counts all connections for each idle one), so one client with
#: hundreds of connections spent ~10 ms of CPU per request, and 25-connection clients still
#: spent most of the buying phase's CPU (cProfile: 1.4 of 2.3 s in
#: `_assign_requests_to_connections`): the benchmark measured itself. Small pools do not.
CONNECTIONS_PER_CLIENT = 8


class ClientPool:
    """HTTP clients shared out by index, each with a small connection pool.

    Index `i` goes to one of the clients of process `i mod processes` (round robin among
    them), and each process has clients enough for every request in flight at once: a buyer
    waits in the service it was sent to, where its request can join the next batch, never
    for a connection inside the benchmark.
    """

    def __init__(self, in_flight: int, processes: int = 1) -> None:
        self.processes = max(1, processes)
        self.per_process = max(1, -(-in_flight // CONNECTIONS_PER_CLIENT))
        limits = httpx.Limits(
            max_connections=CONNECTIONS_PER_CLIENT + 2,
            max_keepalive_connections=CONNECTIONS_PER_CLIENT + 2,
        )
        self.clients = [
            httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT)
            for _ in range(self.processes * self.per_process)
        ]

    def __getitem__(self, index: int) -> httpx.AsyncClient:
        process = index % self.processes
        within = (index // self.processes) % self.per_process
        return self.clients[process * self.per_process + within]

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


@dataclass(frozen=True)
class Product:
    index: int

    @property
    def slug(self) -> str:
        return f"flash-{self.index}"

    @property
    def id(self) -> str:
        return f"product-flash-{self.index}"

    def document(self) -> dict[str, object]:
        return {
            "_id": self.id,
            "_type": "product",
            "title": f"Flash sale item {self.index}",
            "slug": {"_type": "slug", "current": self.slug},
            "stockQuantity": 0,
            "reservedQuantity": 0,
        }


@dataclass(frozen=True)
class Answer:
    """One buyer's reserve: when it was sent and answered (seconds into the phase)."""

    buyer: int
    product: int
    sent: float
    answered: float
    status: int  # 0: no HTTP answer (connection failed or timed out)
    code: str | None

    @property
    def latency_ms(self) -> float:
        return (self.answered - self.sent) * 1000

    @property
    def outcome(self) -> Outcome:
        if self.status == 200:
            return "won"
        if self.status == 409 and self.code == "insufficient_stock":
            return "refused"
        if self.status == 0 or self.status >= 500:
            return "server_error"
        return "other"


@dataclass(frozen=True)
class Settlement:
    paid: int
    released: int
    #: Deliveries answered 5xx (or not at all) and sent again.
    redeliveries: int
    #: Winners whose payment or release was never acknowledged.
    unsettled: int
    #: Answers other than 200, by "status code" (e.g. "503 conflict_retries_exhausted").
    refusals: dict[str, int]


def session_id(buyer: int) -> str:
    return f"cs_flash_{buyer}"


def checkout_completed(buyer: int) -> str:
    """The event Stripe sends when buyer `buyer` has paid (shape of API 2026-10-28)."""
    return json.dumps(
        {
            "id": f"evt_flash_{buyer}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": session_id(buyer),
                    "object": "checkout.session",
                    "mode": "payment",
                    "status": "complete",
                    "payment_status": "paid",
                    "payment_intent": f"pi_flash_{buyer}",
                    "amount_total": 2500,
                    "currency": "eur",
                    "metadata": {},
                }
            },
        }
    )


class Shoppers:
    def __init__(
        self,
        http: ClientPool,
        service_urls: Sequence[str],
        keys: Keys,
        *,
        in_flight: int,
        phase_timeout: float,
    ) -> None:
        self.http = http
        self.urls = list(service_urls)
        self.keys = keys
        self.in_flight = in_flight
        self.phase_timeout = phase_timeout
        self._storefront = {"Authorization": f"Bearer {keys.storefront}"}

    def url_for(self, index: int) -> str:
        return self.urls[index % len(self.urls)]

    async def _bounded(
        self, name: str, jobs: Sequence[Callable[[], Awaitable[None]]], in_flight: int
    ) -> None:
        gate = asyncio.Semaphore(in_flight)

        async def one(job: Callable[[], Awaitable[None]]) -> None:
            async with gate:
                await job()

        try:
            async with asyncio.timeout(self.phase_timeout):
                await asyncio.gather(*(one(job) for job in jobs))
        except TimeoutError:
            raise RuntimeError(
                f"the {name} phase took longer than {self.phase_timeout} s"
            ) from None

    # -- seeding ---------------------------------------------------------------------------

    async def stock_up(self, products: Sequence[Product], units: int) -> None:
        """Set each product's stock through the staff API of the process that will serve its
        buyers (an `initial` adjustment, in the ledger like any other change)."""
        staff = {"X-API-Key": self.keys.staff}

        def job(product: Product) -> Callable[[], Awaitable[None]]:
            async def adjust() -> None:
                response = await self.http[product.index].post(
                    self.url_for(product.index) + "/api/inventory/adjust",
                    json={"productId": product.slug, "setTo": units, "reason": "initial"},
                    headers=staff,
                    timeout=REQUEST_TIMEOUT,
                )
                if response.status_code != 200:
                    raise RuntimeError(f"seeding {product.slug} failed: {response.text}")

            return adjust

        await self._bounded("seeding", [job(p) for p in products], SETTLE_IN_FLIGHT)

    # -- the sale --------------------------------------------------------------------------

    async def buy(self, product_of: Callable[[int], Product], buyers: int) -> list[Answer]:
        answers: list[Answer] = []
        started = time.perf_counter()

        def job(buyer: int) -> Callable[[], Awaitable[None]]:
            product = product_of(buyer)

            async def reserve() -> None:
                sent = time.perf_counter() - started
                status, code = 0, None
                try:
                    response = await self.http[buyer].post(
                        self.url_for(buyer) + "/api/reserve-stock",
                        json={
                            "sessionId": session_id(buyer),
                            "operations": [{"productId": product.slug, "quantity": 1}],
                        },
                        headers=self._storefront,
                        timeout=REQUEST_TIMEOUT,
                    )
                    status = response.status_code
                    if status != 200:
                        code = _error_code(response)
                except httpx.HTTPError:
                    pass
                answered = time.perf_counter() - started
                answers.append(Answer(buyer, product.index, sent, answered, status, code))

            return reserve

        await self._bounded("buying", [job(b) for b in range(buyers)], self.in_flight)
        return sorted(answers, key=lambda answer: answer.buyer)

    # -- after the sale --------------------------------------------------------------------

    async def settle(self, winners: Sequence[int], abandon: float) -> Settlement:
        """Pay for every winner's hold, except the share `abandon` who release it."""
        quitters = set(winners[: round(len(winners) * abandon)])
        redeliveries = 0
        paid = released = unsettled = 0
        refusals: Counter[str] = Counter()

        def job(buyer: int) -> Callable[[], Awaitable[None]]:
            async def deliver() -> None:
                nonlocal redeliveries, paid, released, unsettled
                pays = buyer not in quitters
                for attempt in range(MAX_DELIVERIES):
                    status, wait, code = await (self._pay(buyer) if pays else self._release(buyer))
                    if status == 200:
                        if pays:
                            paid += 1
                        else:
                            released += 1
                        return
                    refusals[f"{status} {code}"] += 1
                    if 0 < status < 500 or attempt == MAX_DELIVERIES - 1:
                        break
                    redeliveries += 1
                    await asyncio.sleep(wait)
                unsettled += 1

            return deliver

        await self._bounded("paying", [job(b) for b in winners], SETTLE_IN_FLIGHT)
        return Settlement(paid, released, redeliveries, unsettled, dict(refusals))

    async def _pay(self, buyer: int) -> tuple[int, float, str | None]:
        payload = checkout_completed(buyer)
        # Stripe signs each delivery anew, so a redelivery is never stale.
        signature: str = stripe.WebhookSignature.generate_signature_header(
            payload, self.keys.stripe_webhook, timestamp=int(time.time())
        )
        return await self._post(
            buyer,
            self.url_for(buyer + 1) + "/api/stripe-webhook",
            content=payload.encode(),
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )

    async def _release(self, buyer: int) -> tuple[int, float, str | None]:
        return await self._post(
            buyer,
            self.url_for(buyer) + "/api/release-stock",
            content=json.dumps({"sessionId": session_id(buyer)}).encode(),
            headers={**self._storefront, "Content-Type": "application/json"},
        )

    async def _post(
        self, buyer: int, url: str, *, content: bytes, headers: dict[str, str]
    ) -> tuple[int, float, str | None]:
        """(status, seconds to wait before sending again, error code); status 0 when
        nothing came back."""
        try:
            response = await self.http[buyer].post(
                url, content=content, headers=headers, timeout=REQUEST_TIMEOUT
            )
        except httpx.HTTPError as exc:
            return 0, 0.5, type(exc).__name__
        code = _error_code(response) if response.status_code != 200 else None
        return response.status_code, _retry_after(response), code


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", "0.5"))
    except ValueError:
        seconds = 0.5
    return max(0.05, min(seconds, MAX_REDELIVERY_WAIT))

"""A shop whose store misbehaves on cue: the production `SanityClient` over the lake server
(`create_lake_app`) through an in-process transport, with one scripted fault per run.

Faults count store requests per endpoint (`doc`, `query`, `mutate`) from the moment the
world is armed, so the setup of a scenario runs untouched and "the 2nd call of the
operation" means exactly that. 500, 429 and a committed mutation whose answer is lost come
from the lake server's own `FaultPlan`; a timeout (the server did the work, the answer came
too late) is raised by the transport. Every wait (client retries, engine backoff) is fake.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from random import Random
from typing import Literal

import httpx

from cms_client.faults import Fault, FaultPlan
from cms_client.lake import Lake
from cms_client.sanity_client import SanityClient
from cms_client.sanity_settings import SanitySettings
from cms_client.server import create_lake_app
from service.engine import EngineSettings, Inventory
from tests.server.fakes import ManualMonotonic
from tests.support.clock import ManualClock

FaultKind = Literal["500", "429", "timeout", "lost", "lost-unretried"]
FAULT_KINDS: tuple[FaultKind, ...] = ("500", "429", "timeout", "lost", "lost-unretried")

_PLANNED: dict[str, Fault] = {
    "500": Fault.SERVER_ERROR,
    "429": Fault.RATE_LIMITED,
    "lost": Fault.COMMIT_THEN_DROP,
    "lost-unretried": Fault.COMMIT_THEN_ERROR,
}
_ENDPOINT = re.compile(r"/data/(doc|query|mutate)/")


async def no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


class ArmedFaultPlan(FaultPlan):
    """A scripted plan that sees no request before it is armed."""

    armed = False

    def decide(self, endpoint: str) -> Fault | None:
        if not self.armed:
            return None
        return super().decide(endpoint)


@dataclass
class Call:
    endpoint: str
    number: int


@dataclass
class TimingOutTransport(httpx.AsyncBaseTransport):
    """Passes requests to the lake app; the scripted one is answered too late (after the
    server handled it). Records the endpoints called while armed."""

    inner: httpx.AsyncBaseTransport
    plan: ArmedFaultPlan
    timeout_at: tuple[str, int] | None = None
    calls: list[Call] = field(default_factory=list)
    timed_out: list[Call] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        match = _ENDPOINT.search(request.url.path)
        if not self.plan.armed or match is None:
            return await self.inner.handle_async_request(request)
        endpoint = match[1]
        number = 1 + sum(call.endpoint == endpoint for call in self.calls)
        self.calls.append(Call(endpoint, number))
        response = await self.inner.handle_async_request(request)
        if self.timeout_at == (endpoint, number):
            self.timed_out.append(Call(endpoint, number))
            await response.aclose()
            raise httpx.ReadTimeout("injected: the answer came too late", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class World:
    """The lake, the faulty wire to it, and engines over that wire."""

    def __init__(self, lake: Lake, clock: ManualClock, *, client_retries: bool = True) -> None:
        self.lake = lake
        self.clock = clock
        self.plan = ArmedFaultPlan()
        self.transport = TimingOutTransport(
            httpx.ASGITransport(app=create_lake_app(lake, faults=self.plan)), self.plan
        )
        self.http = httpx.AsyncClient(transport=self.transport)
        settings = SanitySettings(
            project_id="faults",
            api_host="http://lake.test",
            retry_attempts=4 if client_retries else 1,
            mutations_per_second=1_000_000,
        )
        self.client = SanityClient(
            settings, http=self.http, sleep=no_wait, monotonic=ManualMonotonic(), clock=clock
        )
        self._engines = 0

    def engine(self) -> Inventory:
        """A fresh stocksync instance on the faulty wire (nothing cached)."""
        self._engines += 1
        return Inventory(
            self.client,
            clock=self.clock,
            settings=EngineSettings(reconcile_settle=0),
            sleep=no_wait,
            rng=Random(self._engines),
        )

    def arm(self, call: Call | None = None, kind: FaultKind | None = None) -> None:
        """Count requests from now; make `call` fail with `kind` (none: just count)."""
        self.transport.calls.clear()
        if call is not None and kind is not None:
            if kind == "timeout":
                self.transport.timeout_at = (call.endpoint, call.number)
            else:
                self.plan.script = {(call.endpoint, call.number): _PLANNED[kind]}
        self.plan.armed = True

    @property
    def injected(self) -> list[Call]:
        """The faults that actually happened."""
        planned = [Call(fault.endpoint, fault.number) for fault in self.plan.injected]
        return planned + self.transport.timed_out

    @property
    def sequence(self) -> list[str]:
        return [call.endpoint for call in self.transport.calls]

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.http.aclose()

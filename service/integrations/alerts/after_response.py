"""Work that runs after the HTTP response has been sent (Starlette's background-task idea,
reachable from anywhere below a route, not only from the route itself).

`AfterResponseMiddleware` gives each request a list of deferred jobs; `defer(job)` adds to
the list of the request being served. Once the app has sent the whole response, the
middleware runs the jobs, so the caller has its answer before any alert is posted. Outside
a request `defer` returns False and the caller decides what to do instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

logger = logging.getLogger("stocksync.alerts")

Job = Callable[[], Awaitable[object]]

#: The jobs of the request being served. The list itself is shared, so a job deferred in a
#: copied context (a thread-pool dependency) still lands in the request's list.
_jobs: ContextVar[list[Job] | None] = ContextVar("stocksync_after_response", default=None)


def defer(job: Job) -> bool:
    """Run `job` after the current response; False when no request is being served."""
    jobs = _jobs.get()
    if jobs is None:
        return False
    jobs.append(job)
    return True


class AfterResponseMiddleware:
    """Runs the jobs deferred while serving a request once the app is done with it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        jobs: list[Job] = []
        token = _jobs.set(jobs)
        try:
            await self.app(scope, receive, send)
        finally:
            _jobs.reset(token)
            # Even when the app failed after a write: the write happened, so it is reported.
            for job in jobs:
                try:
                    await job()
                except Exception:
                    logger.exception("a job deferred after the response failed")

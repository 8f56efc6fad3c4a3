"""A Sanity-compatible HTTP server over a `DocumentStore` (normally the embedded `Lake`).

It speaks the Content Lake endpoints stocksync uses (`/data/doc`, `/data/query`,
`/data/mutate`) with Sanity's options, response bodies and error bodies, so `SanityClient`
pointed at it (`SANITY_API_HOST`) behaves as it does against the real API. Several local
processes share one lake file through it, and tests drive the production client against it
in-process. It can also imitate production trouble on purpose: latency, 500s, 429s, a mutate
rate limit and answers lost after the commit (`cms_client.faults`).

One module per concern: `routing` (the app), `inputs` (admission and parsing), `queries`
(reads), `mutations` (writes), `conditions` (injected trouble), `errors` (refusals and
handlers; bodies come from `cms_client.error_bodies`), `serving` (uvicorn).

Built on plain Starlette: `cms_client` must not depend on the service's FastAPI app.
"""

from __future__ import annotations

from cms_client.server.conditions import ConnectionDropped
from cms_client.server.errors import MAX_MUTATE_BODY_BYTES
from cms_client.server.routing import create_lake_app
from cms_client.server.serving import bind_socket, run_lake_server, serve_lake

__all__ = [
    "MAX_MUTATE_BODY_BYTES",
    "ConnectionDropped",
    "bind_socket",
    "create_lake_app",
    "run_lake_server",
    "serve_lake",
]

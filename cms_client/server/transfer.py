"""`GET /v…/data/export/<dataset>`: the whole dataset as NDJSON, as Sanity's export endpoint.

One document per line, drafts and versions included, by id. It always needs the token,
also on a public dataset (an export holds drafts). Documents are read a page at a time on
query threads, so an export of a large dataset streams and never holds up writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from cms_client.error_bodies import status_body
from cms_client.server.errors import Refusal
from cms_client.server.inputs import Gate
from cms_client.store import DocumentStore


@runtime_checkable
class Exportable(Protocol):
    def export_pages(self, page_size: int = 1000) -> AsyncIterator[list[str]]: ...


class Export:
    def __init__(self, store: DocumentStore, gate: Gate) -> None:
        self.store = store
        self.gate = gate

    async def export(self, request: Request) -> Response:
        self.gate.admit(request)
        if not isinstance(self.store, Exportable):
            raise Refusal(404, status_body(404, "This store does not support export"))
        return StreamingResponse(
            _lines(self.store), media_type="application/x-ndjson; charset=utf-8"
        )


async def _lines(store: Exportable) -> AsyncIterator[bytes]:
    async for page in store.export_pages():
        yield "".join(body + "\n" for body in page).encode()

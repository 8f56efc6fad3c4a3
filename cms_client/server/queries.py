"""Reads: `/data/doc/<ids>` and `/data/query` (GET and POST)."""

from __future__ import annotations

import time
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from cms_client.errors import StoreError
from cms_client.ids import is_published
from cms_client.server.errors import bad_request, json_response, store_error_response
from cms_client.server.inputs import (
    Gate,
    flag,
    json_object,
    perspective,
    query_string_params,
)
from cms_client.store import Document, DocumentStore


class Reads:
    def __init__(self, store: DocumentStore, gate: Gate) -> None:
        self.store = store
        self.gate = gate

    async def doc(self, request: Request) -> Response:
        admission = self.gate.admit(request, anonymous_ok=True)
        requested = cast(str, request.path_params["ids"]).split(",")
        if any(not doc_id for doc_id in requested):
            raise bad_request("Document ids must be non-empty")
        ids = list(dict.fromkeys(requested))
        found = await self.store.get_documents(
            ids, include_all_versions=flag(request, "includeAllVersions")
        )
        documents: list[Document] = []
        omitted: list[dict[str, str]] = []
        for doc_id, doc in zip(ids, found, strict=False):
            if admission.anonymous and not is_published(doc_id):
                # Sanity leaves out what the caller may not read, saying so, not why.
                omitted.append({"id": doc_id, "reason": "permission"})
            elif doc is None:
                omitted.append({"id": doc_id, "reason": "existence"})
            else:
                documents.append(doc)
        extra = found[len(ids) :]
        documents.extend(
            doc
            for doc in extra
            if doc is not None and not (admission.anonymous and not is_published(doc["_id"]))
        )
        return json_response(200, {"documents": documents, "omitted": omitted})

    async def query(self, request: Request) -> Response:
        admission = self.gate.admit(request, anonymous_ok=True)
        if request.method == "POST":
            body = await json_object(request)
            query = body.get("query")
            params = body.get("params", {})
            if params is None:
                params = {}
            if not isinstance(params, dict):
                raise bad_request('"params" must be an object')
        else:
            query = request.query_params.get("query")
            params = query_string_params(request)
        if not isinstance(query, str) or not query.strip():
            raise bad_request("Missing query")
        chosen = perspective(request, admission.version)
        if admission.anonymous:
            # Anonymous readers of a public dataset see published documents only.
            chosen = "published"
        started = time.perf_counter()
        try:
            result = await self.store.query(query, params, perspective=chosen)
        except StoreError as exc:
            return store_error_response(exc, query)
        answer: dict[str, Any] = {
            "query": query,
            "result": result,
            "ms": round((time.perf_counter() - started) * 1000),
        }
        if not flag(request, "returnQuery", default=True):
            del answer["query"]
        return json_response(200, answer)

"""Writes: `/data/mutate` with Sanity's options (returnIds, returnDocuments, dryRun, ...)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cms_client.server.errors import (
    MAX_MUTATE_BODY_BYTES,
    bad_request,
    json_response,
)
from cms_client.server.inputs import Gate, body_flag, flag, json_object
from cms_client.store import DocumentStore, Visibility

_VISIBILITIES: tuple[Visibility, ...] = ("sync", "async", "deferred")


class Writes:
    def __init__(self, store: DocumentStore, gate: Gate) -> None:
        self.store = store
        self.gate = gate

    async def mutate(self, request: Request) -> Response:
        self.gate.admit(request)
        body = await json_object(request, limit=MAX_MUTATE_BODY_BYTES)
        mutations = body.get("mutations")
        if not isinstance(mutations, list) or not all(isinstance(m, dict) for m in mutations):
            raise bad_request('"mutations" must be an array of objects')
        if not mutations:
            raise bad_request("No mutations given")
        visibility = request.query_params.get("visibility") or "sync"
        if visibility not in _VISIBILITIES:
            raise bad_request('"visibility" must be one of sync, async, deferred')
        dry_run = flag(request, "dryRun") or body_flag(body, "dryRun")
        return_ids = flag(request, "returnIds")
        return_documents = flag(request, "returnDocuments")
        transaction_id = _transaction_id(request, body)
        if flag(request, "autoGenerateArrayKeys"):
            mutations = _mutations_with_array_keys(mutations)
        result = await self.store.mutate(
            mutations,
            transaction_id=transaction_id,
            return_documents=return_documents,
            visibility=visibility,
            dry_run=dry_run,
        )
        results: list[dict[str, Any]] = []
        for item in result.results:
            entry: dict[str, Any] = {}
            if return_ids:
                entry["id"] = item.id
            entry["operation"] = item.operation
            if return_documents and item.document is not None:
                entry["document"] = item.document
            results.append(entry)
        return json_response(200, {"transactionId": result.transaction_id, "results": results})


def _transaction_id(request: Request, body: Mapping[str, Any]) -> str | None:
    """`transactionId` from the query string or the JSON body (the JS client uses the body)."""
    in_query = request.query_params.get("transactionId") or None
    in_body = body.get("transactionId")
    if in_body is not None and (not isinstance(in_body, str) or not in_body):
        raise bad_request('"transactionId" must be a non-empty string')
    if in_query is not None and in_body is not None and in_query != in_body:
        # Which one Sanity prefers is unknown; refusing beats guessing.
        raise bad_request("transactionId differs between query string and body")
    return in_query or in_body


def _add_array_keys(value: Any) -> Any:
    """`autoGenerateArrayKeys`: give every object inside an array a `_key` if it lacks one."""
    if isinstance(value, list):
        return [
            {"_key": secrets.token_hex(6), **_add_array_keys(item)}
            if isinstance(item, dict) and "_key" not in item
            else _add_array_keys(item)
            for item in value
        ]
    if isinstance(value, dict):
        return {key: _add_array_keys(item) for key, item in value.items()}
    return value


def _mutations_with_array_keys(mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keyed: list[dict[str, Any]] = []
    for mutation in mutations:
        changed: dict[str, Any] = {}
        for kind, spec in mutation.items():
            if kind in ("create", "createIfNotExists", "createOrReplace"):
                changed[kind] = _add_array_keys(spec)
            elif kind == "patch" and isinstance(spec, dict):
                patch = dict(spec)
                for op in ("set", "setIfMissing"):
                    if isinstance(patch.get(op), dict):
                        patch[op] = {path: _add_array_keys(v) for path, v in patch[op].items()}
                insert = patch.get("insert")
                if isinstance(insert, dict) and isinstance(insert.get("items"), list):
                    patch["insert"] = {**insert, "items": _add_array_keys(insert["items"])}
                changed[kind] = patch
            else:
                changed[kind] = spec
        keyed.append(changed)
    return keyed

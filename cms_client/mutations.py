"""Typed builders for Sanity mutations (the JSON shape `/data/mutate` takes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cms_client.store import Document, Mutation

#: A field that never exists; unsetting it changes nothing but lets `ifRevisionID` guard a
#: document that the transaction does not otherwise patch (Studio's legacy publish trick).
REVISION_LOCK_FIELD = "_revision_lock_pseudo_field_"


def create(doc: Document) -> Mutation:
    return {"create": dict(doc)}


def create_if_not_exists(doc: Document) -> Mutation:
    return {"createIfNotExists": dict(doc)}


def create_or_replace(doc: Document) -> Mutation:
    return {"createOrReplace": dict(doc)}


def delete(doc_id: str) -> Mutation:
    return {"delete": {"id": doc_id}}


def delete_by_query(query: str, params: Mapping[str, Any] | None = None) -> Mutation:
    return {"delete": {"query": query, "params": dict(params or {})}}


def patch(
    doc_id: str,
    *,
    if_revision_id: str | None = None,
    set: Mapping[str, Any] | None = None,  # shadows the builtin on purpose: Sanity's name
    set_if_missing: Mapping[str, Any] | None = None,
    unset: Sequence[str] | None = None,
    inc: Mapping[str, int | float] | None = None,
    dec: Mapping[str, int | float] | None = None,
    insert: Mapping[str, Any] | None = None,
) -> Mutation:
    body: dict[str, Any] = {"id": doc_id}
    if if_revision_id is not None:
        body["ifRevisionID"] = if_revision_id
    if set_if_missing:
        body["setIfMissing"] = dict(set_if_missing)
    if set:
        body["set"] = dict(set)
    if unset:
        body["unset"] = list(unset)
    if inc:
        body["inc"] = dict(inc)
    if dec:
        body["dec"] = dict(dec)
    if insert:
        body["insert"] = dict(insert)
    return {"patch": body}


def revision_guard(doc_id: str, revision: str) -> Mutation:
    """A no-op patch that fails the transaction unless `doc_id` is still at `revision`."""
    return patch(doc_id, if_revision_id=revision, unset=[REVISION_LOCK_FIELD])

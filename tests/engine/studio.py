"""What Sanity Studio does to a product, as plain mutations (legacy publish transaction)."""

from __future__ import annotations

from typing import Any

from cms_client import mutations as m
from cms_client.ids import draft_id
from cms_client.store import Document, DocumentStore

SYSTEM_FIELDS = ("_rev", "_createdAt", "_updatedAt")


def _content(doc: Document, doc_id: str) -> dict[str, Any]:
    body = {k: v for k, v in doc.items() if k not in SYSTEM_FIELDS}
    body["_id"] = doc_id
    return body


async def start_draft(
    store: DocumentStore, product_id: str, *, from_doc: Document | None = None
) -> None:
    """The editor starts editing: the draft is a full copy of the published document (or
    of an older copy Studio still had, when it raced a service write)."""
    if from_doc is None:
        (from_doc,) = await store.get_documents([product_id])
        assert from_doc is not None
    await store.mutate([m.create_or_replace(_content(from_doc, draft_id(product_id)))])


async def edit_draft(store: DocumentStore, product_id: str, fields: dict[str, Any]) -> None:
    await store.mutate([m.patch(draft_id(product_id), set=fields)])


async def publish(store: DocumentStore, product_id: str) -> None:
    """Guard the published revision, replace it with the draft, delete the draft."""
    published, draft = await store.get_documents([product_id, draft_id(product_id)])
    assert published is not None and draft is not None
    await store.mutate(
        [
            m.revision_guard(product_id, published["_rev"]),
            m.create_or_replace(_content(draft, product_id)),
            m.delete(draft_id(product_id)),
        ]
    )

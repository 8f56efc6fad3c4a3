"""A Sanity product delivery, parsed and handed to the engine.

The webhook's body is the projection the shop configured; stocksync needs only the
document's `_id` from it (or the `sanity-document-id` header). Everything else is decided
by the engine's `product_changed` from a fresh read of the product: the body is a trigger,
never a source of stock numbers (design rules 1 and 10).
"""

from __future__ import annotations

import json

from cms_client.ids import id_problem
from service.engine import Inventory, ProductChangeResult, product_changed
from service.integrations.errors import WebhookRejected


def document_id_of(body: bytes, header: str | None) -> str:
    """The delivered document's id: the body's `_id`, else the `sanity-document-id` header.

    Raises `WebhookRejected` (400 `invalid_payload`) when neither names a valid id.
    """
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        # Sanity always sends the projection, an object; the schema says so too.
        raise WebhookRejected(400, "invalid_payload", "The webhook body is not a JSON object.")
    found = data.get("_id")
    chosen = found if isinstance(found, str) and found else header
    if chosen:
        # An id the store would refuse (too long, bad characters) made the read fail as 500.
        problem = id_problem(chosen)
        if problem is not None:
            raise WebhookRejected(400, "invalid_payload", f"The webhook's document id: {problem}.")
        return chosen
    raise WebhookRejected(
        400,
        "invalid_payload",
        "The webhook body has no `_id` (project `_id` in the webhook's projection).",
    )


async def handle_product_delivery(
    inventory: Inventory,
    body: bytes,
    *,
    document_header: str | None,
    delivery_key: str | None,
    transaction_id: str | None,
) -> ProductChangeResult:
    """Parse a verified delivery and let the engine record and repair what it finds."""
    return await product_changed(
        inventory,
        document_id_of(body, document_header),
        delivery_key=delivery_key,
        transaction_id=transaction_id,
        body=body,
    )

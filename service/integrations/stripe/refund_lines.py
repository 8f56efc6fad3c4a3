"""The refund metadata format that names what a partial refund puts back in stock.

A refund created with

    metadata[stocksync_lines] = '[{"productId":"railcam","quantity":1},
                                  {"productId":"halloween-tee","size":"m","quantity":2}]'

restores exactly those units: each line names a product by `_id` or slug, optionally a
variant by `size` (case-insensitive) or `variantKey`, and a positive `quantity`. Stripe
metadata values are strings of at most 500 characters, so the lines are one JSON string.
A refund without the key is restored in full only when the charge is fully refunded;
a partial one without it gets an errorLog asking for a manual restock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from pydantic import ValidationError

from schemas.operations import LineRequest
from service.integrations.stripe.payloads import LINES_METADATA_KEY


class RefundLinesError(ValueError):
    """The metadata names lines, but not in the documented format."""


def refund_lines(metadata: Mapping[str, str]) -> list[LineRequest] | None:
    """The lines a refund restores; None when its metadata names none."""
    raw = metadata.get(LINES_METADATA_KEY)
    if raw is None or not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        raise RefundLinesError(f"{LINES_METADATA_KEY} is not valid JSON") from None
    if not isinstance(data, list) or not data:
        raise RefundLinesError(f"{LINES_METADATA_KEY} must be a non-empty JSON array")
    lines: list[LineRequest] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise RefundLinesError(f"{LINES_METADATA_KEY}[{index}] must be an object")
        try:
            lines.append(
                LineRequest.model_validate(
                    {
                        "productId": item.get("productId"),
                        "quantity": item.get("quantity"),
                        "size": item.get("size"),
                        "variantKey": item.get("variantKey"),
                    }
                )
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem.get("loc", ()))
            raise RefundLinesError(
                f"{LINES_METADATA_KEY}[{index}].{where}: {problem.get('msg')}"
            ) from None
    return lines

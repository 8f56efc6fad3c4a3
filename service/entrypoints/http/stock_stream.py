"""`GET /api/stock-stream?productIds=a,b`: live stock for a storefront, as Server-Sent Events.

The stream starts with `event: snapshot` (the figures `GET /api/stock-status` answers),
then sends `event: stock` with one stock-status item whenever a listed product's (or one of
its variants') available stock or state changes, whichever process or tool changed it: the
changes come from the process's one upstream listener on the store
(`service.integrations.sanity.stock_feed`). Every event has an `id:`; a comment at least
every 15 s keeps proxies from closing an idle connection. A reconnect (EventSource sends
`Last-Event-ID`) starts again with a fresh snapshot, so nothing a client missed while away
is lost; the id is therefore only a marker, never a position to resume from.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from schemas.base import format_timestamp
from schemas.operations import ProductStatus, QuarantinedStatus, StatusResult
from service.engine import ProductQuarantined, product_status
from service.engine import ProductStock as StockOfDocument
from service.entrypoints.context import Services, get_services
from service.entrypoints.errors import ApiError
from service.entrypoints.http.error_handlers import validation_error
from service.entrypoints.http.error_responses import COMMON, error_responses
from service.entrypoints.http.security import Public
from service.entrypoints.http.storefront_models import ProductStock, QuarantinedProduct
from service.integrations.sanity.stock_feed import RESYNC, Subscriber

router = APIRouter(prefix="/api", tags=["storefront"])

ServicesDep = Annotated[Services, Depends(get_services)]
#: Longest silence before a comment line (proxies close idle connections after ~30-60 s).
KEEPALIVE_S: Final = 15.0
#: How long EventSource waits before reconnecting (sent as `retry:`).
RETRY_MS: Final = 3000
KEEPALIVE: Final = b": keepalive\n\n"


def _item(status: ProductStatus) -> dict[str, Any]:
    return ProductStock.of(status).model_dump(by_alias=True, mode="json", exclude_none=True)


def _signature(status: ProductStatus) -> tuple[Any, ...]:
    """What a change must move to be sent: available stock and state, per variant too."""
    variants = tuple((v.variant_key, v.size, v.available, v.state) for v in status.variants or ())
    return (status.available, status.state, variants)


def _event(name: str, event_id: str, data: Any) -> bytes:
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {name}\nid: {event_id}\ndata: {body}\n\n".encode()


def _quarantine_signature(entry: QuarantinedStatus) -> tuple[Any, ...]:
    return ("quarantined", entry.field, entry.reason)


def _status_of(
    doc: dict[str, Any], name: str, threshold: int
) -> ProductStatus | QuarantinedStatus | None:
    """The listed product's figures as the changed document gives them; its quarantine
    when a stock field cannot be read (design rule 10); None when it is no product."""
    try:
        return product_status(StockOfDocument(doc), name, threshold)
    except ProductQuarantined as exc:
        quarantine = exc.quarantine
        return QuarantinedStatus(
            product_id=name,
            id=quarantine.product_id,
            title=quarantine.title,
            field=quarantine.field,
            reason=quarantine.reason,
        )
    except (ValidationError, ValueError, TypeError):
        return None


@router.get(
    "/stock-stream",
    response_class=StreamingResponse,
    summary="Live stock of up to 100 products (public, Server-Sent Events)",
    responses={
        **error_responses(*COMMON, 429, 503),
        200: {
            "description": "`text/event-stream`: `snapshot`, then `stock` (and `quarantined`) "
            "events.",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
)
async def stock_stream(
    services: ServicesDep,
    caller: Public,
    product_ids: Annotated[
        str,
        Query(
            alias="productIds",
            max_length=20_000,
            description="Comma-separated slugs or `_id`s (at most 100).",
            examples=["railcam,halloween-tee"],
        ),
    ],
) -> StreamingResponse:
    """`event: snapshot` with `{stockStatus, notFound, timestamp}` as `GET /api/stock-status`
    answers, then `event: stock` with one such item per change of a listed product's
    available stock or state (a variant's included), made by any process or in Studio;
    `event: quarantined` when a listed product's stock fields can no longer be read.
    Every event has an `id`; a `: keepalive` comment comes at least every 15 s. Reconnect
    (EventSource does, sending `Last-Event-ID`) for a fresh snapshot."""
    names = list(dict.fromkeys(n.strip() for n in product_ids.split(",") if n.strip()))
    if not names:
        raise validation_error([("productIds", "name at least one product", "missing")])
    feed = services.stock_feed
    if feed is None:
        raise ApiError(
            503, "not_configured", "This store offers no change feed to stream stock from."
        )
    limit = services.inventory.settings.status_max_products
    if len(names) > limit:
        raise validation_error([("productIds", f"at most {limit} products", "too_long")])
    # Subscribed before the snapshot is read, so no change falls between the two.
    subscriber = feed.subscribe()
    try:
        await feed.ready()
        status = await services.inventory.status(names)
    except BaseException:
        subscriber.close()
        raise
    subscriber.products = {product.id for product in status.products} | {
        entry.id for entry in status.quarantined
    }
    return StreamingResponse(
        _events(services, subscriber, names, status),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    services: Services,
    subscriber: Subscriber,
    names: Sequence[str],
    status: StatusResult,
) -> AsyncIterator[bytes]:
    products = status.products
    threshold = services.inventory.settings.low_stock_threshold
    stream_id = secrets.token_hex(4)
    counter = itertools.count(1)
    sent: dict[str, tuple[Any, ...]] = {}
    names_of: dict[str, list[str]] = {}
    getter: asyncio.Future[Any] | None = None
    timer: asyncio.Future[Any] | None = None

    def next_id() -> str:
        return f"{stream_id}-{next(counter)}"

    try:
        yield f"retry: {RETRY_MS}\n\n".encode()
        for product in products:
            sent[product.product_id] = _signature(product)
            names_of.setdefault(product.id, []).append(product.product_id)
        for odd in status.quarantined:
            sent[odd.product_id] = _quarantine_signature(odd)
            names_of.setdefault(odd.id, []).append(odd.product_id)
        snapshot = {
            "stockStatus": [_item(product) for product in products],
            "notFound": list(status.not_found),
            "quarantined": [
                QuarantinedProduct.of(entry).model_dump(by_alias=True, mode="json")
                for entry in status.quarantined
            ],
            "timestamp": format_timestamp(status.checked_at),
        }
        yield _event("snapshot", next_id(), snapshot)
        while True:
            if getter is None:
                getter = asyncio.ensure_future(subscriber.next())
            if timer is None:
                # Runs until something is sent: changes that send nothing do not reset it.
                timer = asyncio.ensure_future(services.sleep(KEEPALIVE_S))
            await asyncio.wait({getter, timer}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                timer = None
                yield KEEPALIVE
                continue
            item, getter = getter.result(), None
            changed: list[ProductStatus | QuarantinedStatus]
            if item == RESYNC:
                fresh = await services.inventory.status(list(names))
                changed = [*fresh.products, *fresh.quarantined]
                subscriber.products = {entry.id for entry in changed}
            else:
                changed = [
                    found
                    for name in names_of.get(item.get("_id", ""), [])
                    if (found := _status_of(item, name, threshold)) is not None
                ]
            out = []
            for entry in changed:
                signature = (
                    _quarantine_signature(entry)
                    if isinstance(entry, QuarantinedStatus)
                    else _signature(entry)
                )
                if sent.get(entry.product_id) != signature:
                    sent[entry.product_id] = signature
                    names_of.setdefault(entry.id, [])
                    if entry.product_id not in names_of[entry.id]:
                        names_of[entry.id].append(entry.product_id)
                    if isinstance(entry, QuarantinedStatus):
                        # Its figures can no longer be trusted: say so, rather than let
                        # the page keep showing the last ones (reserve refuses it by name).
                        data = QuarantinedProduct.of(entry).model_dump(by_alias=True, mode="json")
                        out.append(_event("quarantined", next_id(), data))
                    else:
                        out.append(_event("stock", next_id(), _item(entry)))
            if out:
                timer.cancel()
                timer = None
                yield b"".join(out)
    finally:
        for pending in (getter, timer):
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
        subscriber.close()

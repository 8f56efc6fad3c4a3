"""The GROQ the engine runs. Queries only find candidates; decisions rest on fresh doc reads.

Values always travel as `$params`; the only numbers spliced into a query text are the
engine's own integer page sizes.
"""

from __future__ import annotations

#: Products named by `_id` or by `slug.current` (published perspective).
PRODUCTS_BY_REF = (
    '*[_type == "product" && (_id in $refs || slug.current in $refs)]{_id, "slug": slug.current}'
)

#: Full products for a status answer, in one round trip.
PRODUCTS_FOR_STATUS = (
    '*[_type == "product" && (_id in $refs || slug.current in $refs)]'
    "{_id, _rev, _type, title, slug, sku, stockQuantity, reservedQuantity, lowStockThreshold,"
    " inventoryPolicy, backorderLimit, availableFrom, backorderedQuantity,"
    " backorderReservedQuantity, locationStock, variants}"
)


#: An overdue hold, with `$cutoff` = `overdue_cutoff(now, grace)`: the query form of
#: `model.states.is_overdue`, used by the sweep, by reserve's reclaim and by health.
OVERDUE_HOLD = 'status == "active" && dateTime(expiresAt) < dateTime($cutoff)'


def overdue_reservations(limit: int) -> str:
    """Overdue active reservations (`OVERDUE_HOLD`), oldest first."""
    return (
        f'*[_type == "stockReservation" && {OVERDUE_HOLD}]'
        f" | order(expiresAt asc) [0...{int(limit)}] {{_id, sessionId, productIds}}"
    )


def overdue_or_next(limit: int) -> str:
    """`overdue_reservations`, and when the next active hold runs out (`next`)."""
    return (
        f'{{"overdue": {overdue_reservations(limit)},'
        ' "next": *[_type == "stockReservation" && status == "active"]'
        " | order(expiresAt asc) [0].expiresAt}"
    )


def active_reservations_page(limit: int) -> str:
    """A page of active reservations, and of paid ones that still owe units (open
    backorders), after `$after` (by `_id`): what reconcile recomputes counters from."""
    return (
        '*[_type == "stockReservation" && (status == "active" || openBackorder == true)'
        " && _id > $after]"
        f" | order(_id asc) [0...{int(limit)}] {{_id, productIds}}"
    )


#: Unresolved quarantine logs (one per document and cause), so reconcile can resolve those of
#: products that read again (design rule 10). Bounded: more are resolved on later runs.
OPEN_QUARANTINE_LOGS = (
    '*[_type == "errorLog" && type == "stock_validation" && coalesce(resolved, false) == false]'
    " | order(_id asc) [0...1000] {_id, productId}"
)


def product_ids_page(limit: int) -> str:
    return f'*[_type == "product" && _id > $after] | order(_id asc) [0...{int(limit)}] {{_id}}'


#: The newest reservation that recorded a payment intent (`paymentIntentId`, set for unpaid
#: checkouts) or was paid with it (`paymentRef`).
RESERVATION_BY_PAYMENT = (
    '*[_type == "stockReservation" && (paymentIntentId == $ref || paymentRef == $ref)]'
    " | order(_createdAt desc) [0] {sessionId}"
)


def expired_idempotency_records(limit: int) -> str:
    return (
        '*[_type == "idempotencyRecord" && dateTime(expiresAt) < dateTime($now)]'
        f" [0...{int(limit)}] {{_id}}"
    )


def purgeable_error_logs(limit: int) -> str:
    return (
        '*[_type == "errorLog" && resolved == true'
        " && dateTime(coalesce(resolvedAt, createdAt)) < dateTime($cutoff)]"
        f" [0...{int(limit)}] {{_id}}"
    )


#: Refund documents still waiting for their payment: all (`$all`), or those of a session or
#: payment intent. Bounded: a call settles at most this many; the next reconcile goes on.
UNMATCHED_REFUNDS = (
    '*[_type == "stockRefunds" && state in ["held", "no_matching_payment", "foreign"]'
    " && ($all || sessionId == $session || paymentIntentId == $intent)]"
    " | order(createdAt asc) [0...200] {_id, paymentIntentId, chargeId, sessionId, state}"
)

#: The refund records that hold a refund id (a staff return naming `re_...`).
REFUNDS_OF_REFUND = (
    '*[_type == "stockRefunds" && $refund in refunds[].refundId] | order(createdAt desc) [0]'
    " {sessionId}"
)


#: Paid reservations still owing units of `$product` (backorders), oldest payment first.
OPEN_BACKORDERS_OF = (
    '*[_type == "stockReservation" && openBackorder == true && $product in productIds]'
    " | order(committedAt asc) [0...500] {_id}"
)

#: Stock locations named by slug (candidates; operations then read them fresh).
LOCATIONS_BY_SLUG = (
    '*[_type == "stockLocation" && slug.current in $slugs]{_id, "slug": slug.current}'
)

#: Every stock location, for status answers (display only).
ALL_LOCATIONS = '*[_type == "stockLocation"] | order(priority asc) [0...1000]'

"""Webhook events as Stripe delivers them, around objects from `objects`.

Snapshot events (`"object": "event"`) carry `data.object` rendered at the webhook endpoint's
API version, and `data.previous_attributes` on `*.updated` events. What an API version
changes for stocksync (from Stripe's changelog):

- 2022-11-15: `charge.refunds` is no longer included (so `charge.refunded` names no refund);
- 2024-10-28.acacia: `refund.created` / `refund.updated` / `refund.failed` are sent for every
  refund, not only for refunds without a charge (before it, a card refund's later changes
  came as `charge.refund.updated`).

Thin events (`"object": "v2.core.event"`) carry no `data.object`, only `related_object`
(id, type, url), and a `created` timestamp string: the shape the stripe library's
`EventNotification` reads.
"""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime
from typing import Any

import stripe

from tests.support.stripe.reference import fixture

#: The API version of the stripe library the service pins (its `_ApiVersion.CURRENT`).
CURRENT_API_VERSION = "2026-10-28.endive"
#: Last version whose charges listed their refunds.
CHARGE_REFUNDS_LISTED_UNTIL = "2022-08-01"
#: First version that sends `refund.*` events for card refunds too.
REFUND_EVENTS_FOR_ALL_SINCE = "2024-10-28.acacia"

_serial = itertools.count(1)


def next_id(prefix: str) -> str:
    """A fresh test-mode id such as `evt_test_000017`."""
    return f"{prefix}_test_{next(_serial):06d}"


def version_date(api_version: str) -> str:
    """`2024-10-28.acacia` -> `2024-10-28` (versions compare by their date)."""
    return api_version.split(".", 1)[0]


def lists_charge_refunds(api_version: str) -> bool:
    return version_date(api_version) < "2022-11-15"


def sends_refund_events(api_version: str) -> bool:
    return version_date(api_version) >= version_date(REFUND_EVENTS_FOR_ALL_SINCE)


def event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    api_version: str = CURRENT_API_VERSION,
    livemode: bool | None = None,
    created: int | None = None,
    previous_attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A snapshot event about `obj` (its `livemode` unless given)."""
    envelope = fixture("event")
    data: dict[str, Any] = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    envelope.update(
        id=event_id or next_id("evt"),
        type=event_type,
        api_version=api_version,
        created=created if created is not None else int(obj.get("created") or time.time()),
        livemode=bool(obj.get("livemode", False)) if livemode is None else livemode,
        pending_webhooks=1,
        request={"id": None, "idempotency_key": None},
        data=data,
    )
    return envelope


def thin_event(
    event_type: str = "v1.billing.meter.error_report_triggered",
    *,
    related_id: str = "mtr_test_123",
    related_type: str = "billing.meter",
    related_url: str | None = None,
    event_id: str | None = None,
    livemode: bool = False,
    created: datetime | None = None,
) -> dict[str, Any]:
    """A thin v2 event notification, as an event destination delivers it."""
    at = created or datetime.now(UTC)
    return {
        "id": event_id or next_id("evt"),
        "object": "v2.core.event",
        "type": event_type,
        "created": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "livemode": livemode,
        "context": None,
        "reason": None,
        "related_object": {
            "id": related_id,
            "type": related_type,
            "url": related_url or f"/v1/billing/meters/{related_id}",
        },
    }


def payload(evt: dict[str, Any]) -> str:
    """The request body Stripe sends (compact JSON, as signed)."""
    return json.dumps(evt, separators=(",", ":"))


def signature(body: str, secret: str, *, age_seconds: int = 0) -> str:
    """The `Stripe-Signature` header for `body`, by the stripe library's own helper."""
    header: str = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=int(time.time()) - age_seconds
    )
    return header

"""The few fields stocksync reads from Stripe events, parsed defensively.

The shape of `data.object` follows the API version of the webhook endpoint (set in the
Stripe Dashboard), not the stripe library's pinned version, so nothing here assumes a field
exists or has a type: expandable fields may be an id or an object, lists may be missing
(`charge.refunds` is no longer included since API 2022-11-15), metadata may be absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

#: Refund metadata key holding the lines a partial refund restores (see `refund_lines`).
LINES_METADATA_KEY = "stocksync_lines"
#: Metadata keys that may name the hold (payment intent, charge or refund). Only keys in
#: stocksync's own namespace: Checkout writes none of them, Stripe copies a payment
#: intent's metadata onto its charges, and `session_id` is a common name for a shop's own
#: web-session key, so a generic key may name anything (even another customer's hold).
SESSION_METADATA_KEYS = ("stocksync_session_id", "stocksync_session")

#: Checkout payment statuses that mean the money is there.
PAID_STATUSES = frozenset({"paid", "no_payment_required"})


def text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def object_id(value: Any) -> str | None:
    """An expandable field: the id string, or the `id` of the expanded object."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        return text(value.get("id"))
    return None


def metadata_of(obj: Mapping[str, Any]) -> dict[str, str]:
    raw = obj.get("metadata")
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): v for k, v in raw.items() if isinstance(v, str)}


def session_in_metadata(metadata: Mapping[str, str]) -> str | None:
    for key in SESSION_METADATA_KEYS:
        if metadata.get(key):
            return metadata[key]
    return None


def integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


#: `object` of a thin event (event destinations, API v2): no `data.object`, only a
#: `related_object` reference; stocksync acts on none of them.
THIN_EVENT_OBJECT = "v2.core.event"


@dataclass(frozen=True)
class StripeEvent:
    """A verified event: its id and type, and `data.object` as a plain dict."""

    id: str
    type: str
    obj: dict[str, Any]
    #: Live or test mode (None when the event does not say).
    livemode: bool | None = None
    #: A thin v2 event (`"object": "v2.core.event"`): nothing to read, nothing to do.
    thin: bool = False
    #: The API version `data.object` is rendered at (the endpoint's).
    api_version: str | None = None

    @property
    def object_id(self) -> str | None:
        return text(self.obj.get("id"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StripeEvent | None:
        """None when the payload is not an event this service can read."""
        event_id, event_type = text(data.get("id")), text(data.get("type"))
        livemode = data.get("livemode")
        mode = livemode if isinstance(livemode, bool) else None
        if (
            event_id is not None
            and event_type is not None
            and data.get("object") == (THIN_EVENT_OBJECT)
        ):
            return cls(id=event_id, type=event_type, obj={}, livemode=mode, thin=True)
        body = data.get("data")
        obj = body.get("object") if isinstance(body, Mapping) else None
        if event_id is None or event_type is None or not isinstance(obj, Mapping):
            return None
        return cls(
            id=event_id,
            type=event_type,
            obj=dict(obj),
            livemode=mode,
            api_version=text(data.get("api_version")),
        )


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    payment_status: str | None
    payment_intent_id: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    #: The storefront's own id for the checkout (a cart id it reserved under), if it set one.
    client_reference_id: str | None = None
    status: str | None = None

    @property
    def paid(self) -> bool:
        return self.payment_status in PAID_STATUSES

    @property
    def payment_ref(self) -> str:
        """What the reservation records as the payment: the intent, else the session."""
        return self.payment_intent_id or self.id

    @classmethod
    def parse(cls, obj: Mapping[str, Any]) -> CheckoutSession | None:
        session_id = text(obj.get("id"))
        if session_id is None:
            return None
        return cls(
            id=session_id,
            payment_status=text(obj.get("payment_status")),
            payment_intent_id=object_id(obj.get("payment_intent")),
            metadata=metadata_of(obj),
            client_reference_id=text(obj.get("client_reference_id")),
            status=text(obj.get("status")),
        )

    @property
    def hold_keys(self) -> list[str]:
        """The ids a hold for this checkout may be under: the session's, then the
        storefront's own (`client_reference_id`)."""
        keys = [self.id]
        if self.client_reference_id and self.client_reference_id != self.id:
            keys.append(self.client_reference_id)
        return keys


@dataclass(frozen=True)
class PaymentIntent:
    id: str
    metadata: dict[str, str]
    failure_code: str | None = None
    failure_message: str | None = None

    @classmethod
    def parse(cls, obj: Mapping[str, Any]) -> PaymentIntent | None:
        intent_id = text(obj.get("id"))
        if intent_id is None:
            return None
        error = obj.get("last_payment_error")
        error = error if isinstance(error, Mapping) else {}
        return cls(
            id=intent_id,
            metadata=metadata_of(obj),
            failure_code=text(error.get("code")) or text(error.get("decline_code")),
            failure_message=text(error.get("message")),
        )


@dataclass(frozen=True)
class Refund:
    id: str
    status: str | None
    amount: int | None
    charge_id: str | None
    payment_intent_id: str | None
    metadata: dict[str, str]
    created: int | None = None

    @classmethod
    def parse(cls, obj: Mapping[str, Any], *, charge: Charge | None = None) -> Refund | None:
        refund_id = text(obj.get("id"))
        if refund_id is None:
            return None
        return cls(
            id=refund_id,
            status=text(obj.get("status")),
            amount=integer(obj.get("amount")),
            charge_id=object_id(obj.get("charge")) or (charge.id if charge else None),
            payment_intent_id=object_id(obj.get("payment_intent"))
            or (charge.payment_intent_id if charge else None),
            metadata=metadata_of(obj),
            created=integer(obj.get("created")),
        )


@dataclass(frozen=True)
class Charge:
    id: str
    payment_intent_id: str | None
    refunded: bool
    amount: int | None
    amount_refunded: int | None
    metadata: dict[str, str]
    #: The refunds the event lists (`refunds.data`); None when the event does not list them.
    refunds: list[Refund] | None

    @classmethod
    def parse(cls, obj: Mapping[str, Any]) -> Charge | None:
        charge_id = text(obj.get("id"))
        if charge_id is None:
            return None
        charge = cls(
            id=charge_id,
            payment_intent_id=object_id(obj.get("payment_intent")),
            refunded=obj.get("refunded") is True,
            amount=integer(obj.get("amount")),
            amount_refunded=integer(obj.get("amount_refunded")),
            metadata=metadata_of(obj),
            refunds=None,
        )
        listed = obj.get("refunds")
        data = listed.get("data") if isinstance(listed, Mapping) else None
        if not isinstance(data, list):
            return charge
        refunds = [
            refund
            for item in data
            if isinstance(item, Mapping)
            and (refund := Refund.parse(item, charge=charge)) is not None
        ]
        return replace(charge, refunds=refunds)

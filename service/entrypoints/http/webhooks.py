"""Webhook receivers (Stripe, Sanity) and the success-page fulfilment route.

These routes only verify and translate; `service.integrations` decides what a delivery means.
Each reads the raw body (signatures are over the exact bytes), refuses before reading any
document when its secret is unset (503 naming the variable) or the signature is wrong
(nothing written), and answers 5xx only when the work did not happen so the sender retries.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import Field

from service.config import parse_key_list
from service.engine import EditorChange
from service.entrypoints.auth import not_configured
from service.entrypoints.context import Services, get_services
from service.entrypoints.errors import ApiError
from service.entrypoints.http.base_models import ResponseModel
from service.entrypoints.http.error_responses import error_responses
from service.entrypoints.http.security import Storefront
from service.entrypoints.http.stripe_client import stripe_gateway
from service.integrations.errors import WebhookRejected
from service.integrations.outcome import Outcome
from service.integrations.sanity.products import handle_product_delivery
from service.integrations.sanity.signature import verify_sanity_signature
from service.integrations.stripe.events import StripeEventHandler
from service.integrations.stripe.fulfillment import (
    CheckoutSessionUnknown,
    Fulfillment,
    fulfill_checkout_session,
)
from service.integrations.stripe.gateway import StripeLookupFailed
from service.integrations.stripe.signature import verify_stripe_event

router = APIRouter(prefix="/api", tags=["webhooks"])

ServicesDep = Annotated[Services, Depends(get_services)]

# Declared as security schemes so the docs say how each route is authenticated; the
# signatures are checked by the handlers, over the raw body.
_stripe_signature = APIKeyHeader(
    name="Stripe-Signature",
    auto_error=False,
    scheme_name="stripeSignature",
    description="Stripe's `t=...,v1=...` HMAC of the raw body (STRIPE_WEBHOOK_SECRET).",
)
_sanity_signature = APIKeyHeader(
    name="sanity-webhook-signature",
    auto_error=False,
    scheme_name="sanitySignature",
    description="Sanity's `t=<ms>,v1=<base64url HMAC>` of the raw body (SANITY_WEBHOOK_SECRET).",
)

#: Seconds Sanity is asked to wait before retrying a repair that must settle first.
SANITY_RETRY_AFTER = 30

_RAW_JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _rejected(exc: WebhookRejected) -> ApiError:
    return ApiError(exc.status, exc.code, exc.message)


def _lookup_failed(exc: StripeLookupFailed) -> ApiError:
    return ApiError(
        503,
        "stripe_unavailable",
        exc.message,
        headers={"Retry-After": str(exc.retry_after)} if exc.retry_after else None,
    )


# -- Stripe ------------------------------------------------------------------------------


class WebhookEffect(ResponseModel):
    action: str
    message: str
    session_id: str | None = None


class StripeWebhookResponse(ResponseModel):
    received: Literal[True] = True
    event_id: str
    type: str
    action: str = Field(
        description="committed, committed_late, already_committed, payment_pending, released, "
        "nothing_to_release, restored, refund_held, manual_restock_logged, recorded, "
        "unknown_session, ignored, ..."
    )
    message: str
    session_id: str | None = None
    effects: list[WebhookEffect] = Field(
        default_factory=list, description="Further effects of the same event."
    )

    @classmethod
    def of(cls, event_id: str, event_type: str, outcome: Outcome) -> StripeWebhookResponse:
        effects = []
        pending = list(outcome.more)
        while pending:
            item = pending.pop(0)
            effects.append(
                WebhookEffect(action=item.action, message=item.message, session_id=item.session_id)
            )
            pending[:0] = item.more
        return cls(
            event_id=event_id,
            type=event_type,
            action=outcome.action,
            message=outcome.message,
            session_id=outcome.session_id,
            effects=effects,
        )


@router.post(
    "/stripe-webhook",
    response_model=StripeWebhookResponse,
    summary="Stripe events: payments commit, expiries release, refunds restore",
    responses=error_responses(400, 413, 503),
    openapi_extra=_RAW_JSON_BODY,
)
async def stripe_webhook(
    request: Request,
    services: ServicesDep,
    stripe_signature: Annotated[str | None, Security(_stripe_signature)] = None,
) -> StripeWebhookResponse:
    """Verified on the raw body with `STRIPE_WEBHOOK_SECRET` (comma-separated secrets are
    all tried; any `v1` in the header may match). A missing, bad or stale signature is a 400
    and nothing is read or written. Each event applies at most once; a duplicate answers 200
    and does nothing. A 503 means the store (or Stripe) could not do the work: Stripe
    retries it."""
    secrets = parse_key_list(
        services.settings.stripe_webhook_secret.get_secret_value()
        if services.settings.stripe_webhook_secret
        else None
    )
    if not secrets:
        raise not_configured("STRIPE_WEBHOOK_SECRET")
    payload = await request.body()
    try:
        event = verify_stripe_event(payload, stripe_signature, secrets)
    except WebhookRejected as exc:
        raise _rejected(exc) from None
    handler = StripeEventHandler(
        services.inventory,
        stripe_gateway(request, services),
        livemode=services.settings.stripe_livemode(),
    )
    outcome = await handler.handle(event)
    return StripeWebhookResponse.of(event.id, event.type, outcome)


# -- success page ------------------------------------------------------------------------


class FulfillResponse(Fulfillment):
    success: Literal[True] = True


@router.post(
    "/checkout-sessions/{session_id}/fulfill",
    response_model=FulfillResponse,
    response_model_exclude_none=True,
    summary="Success page: commit a checkout session Stripe says is paid",
    responses=error_responses(400, 401, 404, 429, 503),
)
async def fulfill(
    session_id: Annotated[
        str, Path(min_length=1, max_length=255, description="The Stripe Checkout Session id.")
    ],
    request: Request,
    services: ServicesDep,
    caller: Storefront,
) -> FulfillResponse:
    """Asks Stripe for the session (`STRIPE_SECRET_KEY`) and, when it is paid, commits its
    reservation. Safe to call while the webhook does the same: the reservation is committed
    once and the other caller gets `replayed: true`. Unpaid sessions answer
    `fulfilled: false`; a session Stripe does not know, or one that reserved nothing, 404."""
    gateway = stripe_gateway(request, services)
    if gateway is None:
        raise not_configured("STRIPE_SECRET_KEY")
    try:
        result = await fulfill_checkout_session(services.inventory, gateway, session_id)
    except CheckoutSessionUnknown as exc:
        raise ApiError(404, "checkout_session_not_found", str(exc)) from None
    except StripeLookupFailed as exc:
        raise _lookup_failed(exc) from None
    return FulfillResponse(**result.model_dump())


# -- Sanity ------------------------------------------------------------------------------


class SanityWebhookResponse(ResponseModel):
    received: Literal[True] = True
    product_id: str
    action: str = Field(description="recorded, unchanged, ignored, duplicate or missing.")
    message: str
    editor_changes: list[EditorChange] = Field(default_factory=list)
    repaired: list[dict[str, Any]] = Field(
        default_factory=list, description="Reserved counters repaired from the reservations."
    )
    replayed: bool = False


@router.post(
    "/webhooks/sanity",
    response_model=SanityWebhookResponse,
    summary="Sanity GROQ-powered webhook on product changes",
    responses=error_responses(400, 401, 413, 503),
    openapi_extra=_RAW_JSON_BODY,
)
async def sanity_webhook(
    request: Request,
    services: ServicesDep,
    sanity_webhook_signature: Annotated[str | None, Security(_sanity_signature)] = None,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
    sanity_transaction_id: Annotated[str | None, Header(max_length=255)] = None,
    sanity_document_id: Annotated[str | None, Header(max_length=255)] = None,
) -> SanityWebhookResponse:
    """Verified with `SANITY_WEBHOOK_SECRET` (`t=<ms>,v1=<base64url HMAC>`, at most five
    minutes old). The payload is a trigger only: the product is re-read, an editor's change
    of `stockQuantity` is recorded in the ledger, and reserved counters a stale draft
    overwrote are repaired from the reservations. A 503 `repair_pending` asks Sanity to
    retry once the product has settled."""
    secret = services.settings.sanity_webhook_secret
    if secret is None:
        raise not_configured("SANITY_WEBHOOK_SECRET")
    body = await request.body()
    try:
        verify_sanity_signature(
            body, sanity_webhook_signature, secret.get_secret_value(), now=services.clock()
        )
    except WebhookRejected as exc:
        raise _rejected(exc) from None
    try:
        result = await handle_product_delivery(
            services.inventory,
            body,
            document_header=sanity_document_id,
            delivery_key=idempotency_key,
            transaction_id=sanity_transaction_id,
        )
    except WebhookRejected as exc:
        raise _rejected(exc) from None
    if result.action == "repair_pending":
        raise ApiError(
            503,
            "repair_pending",
            result.message,
            details={"productId": result.product_id},
            headers={"Retry-After": str(SANITY_RETRY_AFTER)},
        )
    return SanityWebhookResponse(
        product_id=result.product_id,
        action=result.action,
        message=result.message,
        editor_changes=result.editor_changes,
        repaired=[drift.to_json_dict() for drift in result.repaired],
        replayed=result.replayed,
    )

"""Stripe API lookups the webhooks and the success page need, behind one small interface.

`StripeApiGateway` is the production implementation: the stripe library's `StripeClient`
over its httpx transport (`stripe.HTTPXClient`), async calls only, built on first use so
that neither `stripe` nor the client is paid for by requests that never look anything up.
Tests use it against respx, or replace it with any object of the `StripeGateway` shape.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from service.integrations.stripe.payloads import CheckoutSession

if TYPE_CHECKING:
    import stripe

T = TypeVar("T")

ExpireOutcome = Literal["expired", "not_open", "unknown"]


class StripeLookupFailed(Exception):
    """Stripe could not answer (network, 5xx, rate limit, refused key); retry later."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class StripeGateway(Protocol):
    async def checkout_session(self, session_id: str) -> CheckoutSession | None:
        """The checkout session as Stripe has it now; None when Stripe knows no such id."""
        ...

    async def session_for_payment_intent(self, payment_intent_id: str) -> CheckoutSession | None:
        """The checkout session that created the payment intent; None when Stripe knows
        none (a payment that never went through Checkout)."""
        ...

    async def expire_session(self, session_id: str) -> ExpireOutcome:
        """End an open Checkout Session (`POST /v1/checkout/sessions/{id}/expire`):
        "expired", "not_open" (already complete or expired) or "unknown" (no such session).
        Raises `StripeLookupFailed` when Stripe could not answer."""
        ...

    async def aclose(self) -> None: ...


#: Seconds one Stripe call may take: the caller (a webhook Stripe is waiting on, or a
#: customer's success page) cannot wait long.
REQUEST_TIMEOUT = 10.0


def gateway_for(secret_key: str | None, api_base: str | None) -> StripeApiGateway | None:
    """The Stripe API gateway for `STRIPE_SECRET_KEY` at `STRIPE_API_BASE`; None without a
    key (nothing is asked of Stripe)."""
    if secret_key is None:
        return None
    return StripeApiGateway(secret_key, api_base=api_base)


class StripeApiGateway:
    """`StripeGateway` over the Stripe API with the secret key `api_key`, at `api_base`
    (`STRIPE_API_BASE`; Stripe's own API when None)."""

    def __init__(
        self, api_key: str, *, api_base: str | None = None, max_network_retries: int = 1
    ) -> None:
        self._api_key = api_key
        self._api_base = api_base
        self._max_network_retries = max_network_retries
        self._client: stripe.StripeClient | None = None
        self._http: stripe.HTTPXClient | None = None

    def _stripe(self) -> stripe.StripeClient:
        if self._client is None:
            import stripe

            self._http = stripe.HTTPXClient(timeout=REQUEST_TIMEOUT)
            self._client = stripe.StripeClient(
                self._api_key,
                base_addresses={"api": self._api_base} if self._api_base else None,
                http_client=self._http,
                max_network_retries=self._max_network_retries,
            )
        return self._client

    async def checkout_session(self, session_id: str) -> CheckoutSession | None:
        found = await _lookup(self._stripe().v1.checkout.sessions.retrieve_async(session_id))
        return CheckoutSession.parse(found.to_dict()) if found is not None else None

    async def session_for_payment_intent(self, payment_intent_id: str) -> CheckoutSession | None:
        page = await _lookup(
            self._stripe().v1.checkout.sessions.list_async(
                {"payment_intent": payment_intent_id, "limit": 1}
            )
        )
        if page is None:
            return None
        data: Any = page.to_dict().get("data")
        if isinstance(data, list) and data and isinstance(data[0], dict):
            return CheckoutSession.parse(data[0])
        return None

    async def expire_session(self, session_id: str) -> ExpireOutcome:
        import stripe

        try:
            # Retried by the caller (tenacity), not twice over by the library too.
            await self._stripe().v1.checkout.sessions.expire_async(
                session_id, options={"max_network_retries": 0}
            )
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return "unknown"
            if exc.http_status == 400 and exc.code != "rate_limit":
                # "Only Checkout Sessions with a status in ["open"] can be expired."
                return "not_open"
            raise _lookup_failed(exc) from None
        except stripe.StripeError as exc:
            raise _lookup_failed(exc) from None
        return "expired"

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close_async()  # type: ignore[no-untyped-call]
        self._client = None
        self._http = None


async def _lookup(call: Awaitable[T]) -> T | None:
    """Await a Stripe call: None when Stripe knows no such object (404), else its answer.

    Raises `StripeLookupFailed` when Stripe refused the lookup or could not answer.
    """
    import stripe

    try:
        return await call
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise StripeLookupFailed(f"Stripe refused the lookup: {exc.user_message}") from None
    except stripe.StripeError as exc:
        raise _lookup_failed(exc) from None


def _lookup_failed(exc: stripe.StripeError) -> StripeLookupFailed:
    import stripe

    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return StripeLookupFailed(
            "Stripe refused STRIPE_SECRET_KEY (check the key and its permissions)."
        )
    if isinstance(exc, stripe.RateLimitError):
        return StripeLookupFailed("Stripe is rate-limiting this service.", retry_after=2)
    return StripeLookupFailed(
        f"Stripe could not be reached or failed ({type(exc).__name__}).", retry_after=5
    )

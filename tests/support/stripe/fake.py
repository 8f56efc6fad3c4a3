"""`FakeStripe`: a small stateful Stripe with exactly the API endpoints stocksync calls,
and the webhook events Stripe would send while a test drives a checkout through its life.

Neither localstripe (no Checkout Sessions, refunds always succeed) nor stripe-mock (stateless,
not installable here) covers stocksync's cases, so this fake keeps the objects (built from
Stripe's fixtures, see `objects`) and moves them the way Stripe's API reference describes:

- A Checkout Session is created `open`/`unpaid` with `expires_at` 30 min to 24 h ahead
  (Stripe refuses anything else); paying completes it (`complete`/`paid`, or `complete`/
  `unpaid` for a delayed method until `async_payment_succeeded|failed`); expiring it (the API
  call, or time) works only while it is `open`.
- A refund is `pending`, `requires_action`, `succeeded`, `failed` or `canceled`; a card refund
  can also fail after it succeeded. The fake leaves the charge's `amount_refunded` as it was
  when a refund fails: Stripe does not document a reversal there, so stocksync must read the
  refund, not the charge's totals, to learn a refund's outcome.
- Events are rendered at the fake's `api_version` (see `events`): `charge.refunded` lists the
  refunds only before 2022-11-15; `refund.*` events come for card refunds only since
  2024-10-28.acacia, `charge.refund.updated` before.

API (all answers in Stripe's JSON shapes, errors as `{"error": {...}}`): retrieve a Checkout
Session, list them by `payment_intent`, expire one; retrieve a payment intent, a charge, a
refund; list refunds by charge or payment intent. The key must be the fake's (`Bearer`).
`fail_next` queues error answers (500, 429, ...) for the next calls; `requests` records them.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.stripe import objects
from tests.support.stripe.events import (
    CURRENT_API_VERSION,
    event,
    lists_charge_refunds,
    next_id,
    sends_refund_events,
)

TEST_KEY = "sk_test_stocksync_fake"
#: Checkout's limits on `expires_at`, seconds after creation.
MIN_SESSION_LIFETIME = 30 * 60
MAX_SESSION_LIFETIME = 24 * 3600
REFUND_STATUSES = ("pending", "requires_action", "succeeded", "failed", "canceled")


class StripeInvalidRequest(ValueError):
    """What Stripe would refuse with a 400 `invalid_request_error`."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)


def _error(
    status: int, message: str, *, kind: str = "invalid_request_error", **more: Any
) -> Answer:
    return Answer(status, {"error": {"type": kind, "message": message, **more}})


#: Bodies of the failures tests inject, as Stripe answers them.
FAILURE_BODIES: dict[int, Answer] = {
    429: _error(
        429,
        "Too many requests hit the API too quickly. We recommend an exponential backoff.",
        code="rate_limit",
    ),
    500: _error(500, "An unknown error occurred", kind="api_error"),
    503: _error(503, "The service is temporarily unavailable", kind="api_error"),
}


class FakeStripe:
    """Objects by id, an outbox of events, the API over them. Thread-safe: the HTTP server
    serves it from its own thread while the test drives it."""

    def __init__(
        self,
        *,
        api_key: str = TEST_KEY,
        api_version: str = CURRENT_API_VERSION,
        now: Callable[[], int] | None = None,
    ) -> None:
        self.api_key = api_key
        self.api_version = api_version
        self.livemode = api_key.startswith(("sk_live_", "rk_live_"))
        self.now = now or (lambda: objects.CREATED)
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        #: Every event sent, in order; `outbox` holds those not yet taken by `drain`.
        self.events: list[dict[str, Any]] = []
        self.outbox: list[dict[str, Any]] = []
        self.requests: list[Call] = []
        self._failures: deque[Answer] = deque()
        self._lock = threading.RLock()

    # -- what customers and staff do on Stripe's side --------------------------------------

    def create_session(
        self,
        session_id: str | None = None,
        *,
        client_reference_id: str | None = None,
        metadata: dict[str, str] | None = None,
        amount: int = 5000,
        expires_in: int | None = None,
        payment_method_types: list[str] | None = None,
    ) -> dict[str, Any]:
        """A new `open` Checkout Session (as the storefront's `checkout.sessions.create`)."""
        with self._lock:
            created = self.now()
            if expires_in is not None and not (
                MIN_SESSION_LIFETIME <= expires_in <= MAX_SESSION_LIFETIME
            ):
                raise StripeInvalidRequest(
                    "The `expires_at` timestamp must be between 30 minutes and 24 hours "
                    "after Checkout Session creation."
                )
            session = objects.checkout_session(
                session_id or next_id("cs"),
                client_reference_id=client_reference_id,
                metadata=metadata,
                amount_total=amount,
                created=created,
                expires_at=created + (expires_in or MAX_SESSION_LIFETIME),
                livemode=self.livemode,
                payment_method_types=payment_method_types,
            )
            self.sessions[session["id"]] = session
            return copy.deepcopy(session)

    def pay(
        self,
        session_id: str,
        *,
        delayed: bool = False,
        intent_metadata: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """The customer pays: by card (paid at once) or a delayed method (SEPA, BACS, ACH:
        the session completes `unpaid`, the payment intent is `processing`)."""
        with self._lock:
            session = self._open_session(session_id)
            intent = self._intent_for(session, intent_metadata)
            session["status"] = "complete"
            session["url"] = None
            sent = []
            if delayed:
                intent.update(
                    status="processing", processing={"type": "sepa_debit"}, amount_received=0
                )
                sent.append(self._emit("payment_intent.processing", intent))
            else:
                sent += self._succeed(session, intent)
            sent.append(self._emit("checkout.session.completed", session))
            return sent

    def direct_payment(self, amount: int = 5000) -> str:
        """A payment that never went through Checkout (an invoice, a Payment Intent another
        product line created); returns its payment intent id."""
        with self._lock:
            intent = objects.payment_intent(
                next_id("pi"),
                status="requires_payment_method",
                amount=amount,
                created=self.now(),
                livemode=self.livemode,
            )
            self.intents[intent["id"]] = intent
            charge = objects.charge(
                next_id("ch"),
                payment_intent=intent["id"],
                amount=amount,
                created=self.now(),
                livemode=self.livemode,
            )
            self.charges[charge["id"]] = charge
            intent.update(status="succeeded", amount_received=amount, latest_charge=charge["id"])
            self._emit("charge.succeeded", self._render_charge(charge))
            self._emit("payment_intent.succeeded", intent)
            return str(intent["id"])

    def settle(self, session_id: str, *, succeeded: bool = True) -> list[dict[str, Any]]:
        """A delayed payment settles (or fails) days later."""
        with self._lock:
            session = self._session(session_id)
            intent = self.intents[session["payment_intent"]]
            if succeeded:
                sent = self._succeed(session, intent)
                sent.append(self._emit("checkout.session.async_payment_succeeded", session))
                return sent
            intent.update(
                status="requires_payment_method",
                processing=None,
                last_payment_error={
                    "type": "invalid_request_error",
                    "code": "payment_method_unactivated",
                    "message": "The SEPA Direct Debit payment failed.",
                },
            )
            return [
                self._emit("payment_intent.payment_failed", intent),
                self._emit("checkout.session.async_payment_failed", session),
            ]

    def decline(self, session_id: str, decline_code: str = "generic_decline") -> dict[str, Any]:
        """A card is declined on the Checkout page: the session stays open (the customer may
        try again), the payment intent fails this attempt."""
        with self._lock:
            session = self._open_session(session_id)
            intent = self._intent_for(session, None)
            declined = objects.payment_intent(
                intent["id"],
                status="requires_payment_method",
                amount=intent["amount"],
                metadata=intent["metadata"],
                decline_code=decline_code,
                created=intent["created"],
                livemode=self.livemode,
            )
            intent.clear()
            intent.update(declined)
            return self._emit("payment_intent.payment_failed", intent)

    def expire(self, session_id: str) -> dict[str, Any]:
        """The session expires (its `expires_at` passed, or the expire endpoint was called)."""
        with self._lock:
            session = self._open_session(session_id)
            session.update(status="expired", url=None)
            if session.get("payment_intent"):
                intent = self.intents[session["payment_intent"]]
                intent.update(status="canceled", canceled_at=self.now())
                intent["cancellation_reason"] = "abandoned"
            return self._emit("checkout.session.expired", session)

    def refund(
        self,
        payment: str,
        *,
        amount: int | None = None,
        status: str = "succeeded",
        lines: list[dict[str, Any]] | None = None,
        metadata: dict[str, str] | None = None,
        refund_id: str | None = None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Refund a payment (a session id, payment intent id or charge id); `amount`
        defaults to what is left. Returns the refund and the events Stripe sends for it."""
        with self._lock:
            charge = self._charge_of(payment)
            left = charge["amount"] - charge["amount_refunded"]
            amount = left if amount is None else amount
            if amount <= 0 or amount > left:
                raise StripeInvalidRequest(
                    f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
                )
            created = objects.refund(
                refund_id or next_id("re"),
                charge=charge["id"],
                payment_intent=charge["payment_intent"],
                amount=amount,
                status=status,
                lines=lines,
                metadata=metadata,
                created=self.now(),
            )
            self.refunds[created["id"]] = created
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            sent = []
            if sends_refund_events(self.api_version):
                sent.append(self._emit("refund.created", created))
            sent.append(self._emit("charge.refunded", self._render_charge(charge)))
            return copy.deepcopy(created), sent

    def update_refund(
        self, refund_id: str, status: str, *, failure_reason: str | None = None
    ) -> list[dict[str, Any]]:
        """A refund moves on (`pending` -> `succeeded`, `failed`, ...)."""
        if status not in REFUND_STATUSES:
            raise ValueError(f"refund status {status!r} is not one of {REFUND_STATUSES}")
        with self._lock:
            found = self.refunds[refund_id]
            before = {"status": found["status"]}
            updated = objects.refund(
                refund_id,
                charge=found["charge"],
                payment_intent=found["payment_intent"],
                amount=found["amount"],
                status=status,
                metadata=found["metadata"],
                failure_reason=failure_reason,
                created=found["created"],
            )
            if status == "failed":
                before |= {"failure_reason": None, "failure_balance_transaction": None}
            found.clear()
            found.update(updated)
            if not sends_refund_events(self.api_version):
                return [self._emit("charge.refund.updated", found, previous=before)]
            sent = [self._emit("refund.updated", found, previous=before)]
            if status == "failed":
                sent.append(self._emit("refund.failed", found))
            return sent

    # -- events ------------------------------------------------------------------------------

    def drain(self) -> list[dict[str, Any]]:
        """The events sent since the last drain, oldest first."""
        with self._lock:
            taken, self.outbox = self.outbox, []
            return taken

    def _emit(
        self, event_type: str, obj: dict[str, Any], *, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        sent = event(
            event_type,
            copy.deepcopy(obj),
            api_version=self.api_version,
            livemode=self.livemode,
            created=self.now(),
            previous_attributes=previous,
        )
        self.events.append(sent)
        self.outbox.append(sent)
        return sent

    # -- the API -------------------------------------------------------------------------------

    def fail_next(self, status: int = 500, count: int = 1) -> None:
        """The next `count` API calls answer `status` (Stripe's body for it)."""
        with self._lock:
            answer = FAILURE_BODIES.get(status) or _error(status, "Injected failure")
            self._failures.extend([answer] * count)

    def calls(self, method: str, path_start: str = "/v1/") -> list[Call]:
        with self._lock:
            return [
                c for c in self.requests if c.method == method and c.path.startswith(path_start)
            ]

    def handle(
        self, method: str, path: str, params: Mapping[str, str], authorization: str | None
    ) -> Answer:
        """One API request -> Stripe's answer."""
        with self._lock:
            self.requests.append(Call(method, path, dict(params)))
            if authorization is None or not authorization.startswith("Bearer "):
                return _error(
                    401,
                    "You did not provide an API key. You need to provide your API key in the "
                    "Authorization header, using Bearer auth.",
                )
            if authorization.removeprefix("Bearer ") != self.api_key:
                return _error(401, "Invalid API Key provided: sk_****")
            if self._failures:
                return self._failures.popleft()
            return self._route(method, path.rstrip("/").split("/")[1:], params)

    def _route(self, method: str, parts: list[str], params: Mapping[str, str]) -> Answer:
        match method, parts:
            case "GET", ["v1", "checkout", "sessions", session_id]:
                return self._get(self.sessions, "checkout.session", "session", session_id)
            case "GET", ["v1", "checkout", "sessions"]:
                intent = params.get("payment_intent")
                return self._list(
                    "/v1/checkout/sessions",
                    [s for s in self.sessions.values() if s.get("payment_intent") == intent]
                    if intent
                    else list(self.sessions.values()),
                    params,
                )
            case "POST", ["v1", "checkout", "sessions", session_id, "expire"]:
                return self._expire_call(session_id)
            case "GET", ["v1", "payment_intents", intent_id]:
                return self._get(self.intents, "payment_intent", "intent", intent_id)
            case "GET", ["v1", "charges", charge_id]:
                found = self._get(self.charges, "charge", "charge", charge_id)
                if found.status == 200:
                    return Answer(200, self._render_charge(self.charges[charge_id]))
                return found
            case "GET", ["v1", "refunds", refund_id]:
                return self._get(self.refunds, "refund", "refund", refund_id)
            case "GET", ["v1", "refunds"]:
                wanted = {k: params[k] for k in ("charge", "payment_intent") if params.get(k)}
                return self._list(
                    "/v1/refunds",
                    [
                        r
                        for r in self.refunds.values()
                        if all(r.get(k) == v for k, v in wanted.items())
                    ],
                    params,
                )
        return _error(
            404,
            f"Unrecognized request URL ({method}: /{'/'.join(parts)}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
        )

    def _get(
        self, table: dict[str, dict[str, Any]], name: str, param: str, object_id: str
    ) -> Answer:
        found = table.get(object_id)
        if found is None:
            return _error(
                404, f"No such {name}: '{object_id}'", code="resource_missing", param=param
            )
        return Answer(200, copy.deepcopy(found))

    def _list(self, url: str, rows: list[dict[str, Any]], params: Mapping[str, str]) -> Answer:
        limit = int(params.get("limit") or 10)
        newest_first = sorted(rows, key=lambda r: r.get("created", 0), reverse=True)
        return Answer(
            200,
            {
                "object": "list",
                "url": url,
                "has_more": len(newest_first) > limit,
                "data": copy.deepcopy(newest_first[:limit]),
            },
        )

    def _expire_call(self, session_id: str) -> Answer:
        session = self.sessions.get(session_id)
        if session is None:
            return self._get(self.sessions, "checkout.session", "session", session_id)
        if session["status"] != "open":
            return _error(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. This '
                f"Checkout Session has a status of `{session['status']}`.",
            )
        self.expire(session_id)
        return Answer(200, copy.deepcopy(session))

    # -- internals -------------------------------------------------------------------------------

    def _session(self, session_id: str) -> dict[str, Any]:
        return self.sessions[session_id]

    def _open_session(self, session_id: str) -> dict[str, Any]:
        session = self._session(session_id)
        if session["status"] != "open":
            raise StripeInvalidRequest(f"Checkout Session {session_id} is {session['status']}")
        return session

    def _intent_for(
        self, session: dict[str, Any], metadata: dict[str, str] | None
    ) -> dict[str, Any]:
        if session.get("payment_intent"):
            intent = self.intents[session["payment_intent"]]
            if metadata:
                intent["metadata"].update(metadata)
            return intent
        intent = objects.payment_intent(
            next_id("pi"),
            status="requires_payment_method",
            amount=session["amount_total"],
            metadata=metadata,
            created=self.now(),
            livemode=self.livemode,
            payment_method_types=session["payment_method_types"],
        )
        self.intents[intent["id"]] = intent
        session["payment_intent"] = intent["id"]
        return intent

    def _succeed(self, session: dict[str, Any], intent: dict[str, Any]) -> list[dict[str, Any]]:
        charge = objects.charge(
            next_id("ch"),
            payment_intent=intent["id"],
            amount=intent["amount"],
            metadata=dict(intent["metadata"]),  # Stripe copies the intent's metadata
            created=self.now(),
            livemode=self.livemode,
        )
        self.charges[charge["id"]] = charge
        intent.update(
            status="succeeded",
            amount_received=intent["amount"],
            latest_charge=charge["id"],
            processing=None,
            last_payment_error=None,
        )
        session["payment_status"] = "paid"
        return [
            self._emit("charge.succeeded", self._render_charge(charge)),
            self._emit("payment_intent.succeeded", intent),
        ]

    def _charge_of(self, payment: str) -> dict[str, Any]:
        if payment in self.charges:
            return self.charges[payment]
        session = self.sessions.get(payment)
        intent_id = session["payment_intent"] if session is not None else payment
        charge_id = self.intents[intent_id]["latest_charge"]
        if charge_id is None:
            raise StripeInvalidRequest(f"{payment} has no successful charge to refund")
        return self.charges[charge_id]

    def _render_charge(self, charge: dict[str, Any]) -> dict[str, Any]:
        """The charge at the fake's API version: refunds listed only before 2022-11-15."""
        rendered = copy.deepcopy(charge)
        if lists_charge_refunds(self.api_version):
            refunds = [
                copy.deepcopy(r)
                for r in sorted(self.refunds.values(), key=lambda r: r["created"], reverse=True)
                if r["charge"] == charge["id"]
            ]
            rendered = objects.with_refunds(rendered, refunds)
        return rendered

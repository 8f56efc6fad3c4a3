"""Every Stripe event type stocksync handles, through the HTTP app."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from cms_client.errors import RevisionConflict, StoreUnavailable
from cms_client.store import Mutation, MutationResult
from schemas.ids import idempotency_id
from tests.entrypoints.http.conftest import assert_error_shape
from tests.integrations.conftest import TEE, Shop
from tests.integrations.stripe import stripe_fixtures as sf

S = "cs_test_a1"


async def hold_two(shop: Shop, session: str = S) -> None:
    await shop.reserve(session, {"productId": "railcam", "quantity": 2})
    assert await shop.counters() == (5, 2)


async def completed_unpaid(shop: Shop) -> httpx.Response:
    """The checkout completed with a delayed method (a bank debit, intent pi_bank)."""
    return await shop.stripe(
        "evt_unpaid",
        "checkout.session.completed",
        sf.checkout_session(S, payment_status="unpaid", payment_intent="pi_bank"),
    )


async def test_completed_and_paid_commits_the_hold(shop: Shop):
    await hold_two(shop)

    response = await shop.stripe("evt_1", "checkout.session.completed", sf.checkout_session(S))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["received"], body["action"], body["sessionId"]) == (True, "committed", S)
    assert await shop.counters() == (3, 0)
    reservation = await shop.inventory.reservation(S)
    assert reservation is not None
    assert (reservation.status, reservation.payment_ref) == ("committed", "pi_1")
    sale = [e for e in await shop.ledger() if e["type"] == "sale"]
    assert [(e["quantityChange"], e["referenceId"]) for e in sale] == [(-2, S)]


async def test_a_redelivered_event_replays_and_both_keys_are_recorded(shop: Shop):
    await hold_two(shop)
    obj = sf.checkout_session(S)

    first = await shop.stripe("evt_1", "checkout.session.completed", obj)
    again = await shop.stripe("evt_1", "checkout.session.completed", obj)
    # Stripe sometimes sends one change as two events: same object, new event id.
    twin = await shop.stripe("evt_1_twin", "checkout.session.completed", obj)

    assert first.json()["action"] == "committed"
    assert again.json()["action"] == "already_committed"
    assert twin.json()["action"] == "already_committed"
    assert await shop.counters() == (3, 0)
    assert len([e for e in await shop.ledger() if e["type"] == "sale"]) == 1
    for key in ("stripe-event:evt_1", f"stripe-object:checkout.session.completed:{S}"):
        assert await shop.doc(idempotency_id(key)) is not None, key


async def test_no_payment_required_counts_as_paid(shop: Shop):
    await hold_two(shop)
    response = await shop.stripe(
        "evt_free",
        "checkout.session.completed",
        sf.checkout_session(S, payment_status="no_payment_required", payment_intent=None),
    )
    assert response.json()["action"] == "committed"
    reservation = await shop.inventory.reservation(S)
    assert reservation is not None and reservation.payment_ref == S


async def test_completed_unpaid_keeps_the_hold_and_records_the_intent(shop: Shop):
    await hold_two(shop)

    response = await completed_unpaid(shop)

    assert response.json()["action"] == "payment_pending"
    reservation = await shop.inventory.reservation(S)
    assert reservation is not None
    assert (reservation.status, reservation.payment_intent_id) == ("active", "pi_bank")
    # A bank debit settles in days: the hold outlives the checkout's 30 minutes.
    assert (reservation.expires_at - shop.clock()).days >= 20
    assert await shop.counters() == (5, 2)


async def test_async_payment_succeeded_commits(shop: Shop):
    await hold_two(shop)
    await completed_unpaid(shop)

    response = await shop.stripe(
        "evt_settled",
        "checkout.session.async_payment_succeeded",
        sf.checkout_session(S, payment_intent="pi_bank"),
    )

    assert response.json()["action"] == "committed"
    assert await shop.counters() == (3, 0)


async def test_async_payment_failed_releases(shop: Shop):
    await hold_two(shop)
    response = await shop.stripe(
        "evt_bounce",
        "checkout.session.async_payment_failed",
        sf.checkout_session(S, payment_status="unpaid", payment_intent="pi_bank"),
    )
    assert response.json()["action"] == "released"
    assert await shop.counters() == (5, 0)
    assert await shop.status(S) == "released"


async def test_expired_releases_once(shop: Shop):
    await hold_two(shop)
    obj = sf.checkout_session(S, payment_status="unpaid", status="expired", payment_intent=None)

    first = await shop.stripe("evt_exp", "checkout.session.expired", obj)
    again = await shop.stripe("evt_exp", "checkout.session.expired", obj)

    assert first.json()["action"] == "released"
    assert again.json()["action"] == "already_released"
    assert await shop.counters() == (5, 0)
    assert [e["type"] for e in await shop.ledger()] == ["reservation", "release"]


async def test_expired_for_a_session_that_never_reserved_changes_nothing(shop: Shop):
    """The storefront created the session, the reserve failed and it expired the session."""
    before = await shop.count_documents()
    response = await shop.stripe(
        "evt_exp", "checkout.session.expired", sf.checkout_session("cs_never", status="expired")
    )
    assert response.status_code == 200
    assert response.json()["action"] == "nothing_to_release"
    assert await shop.count_documents() == before


async def test_expired_after_completed_changes_nothing(shop: Shop):
    await hold_two(shop)
    await shop.stripe("evt_1", "checkout.session.completed", sf.checkout_session(S))
    before = await shop.count_documents()

    response = await shop.stripe(
        "evt_2", "checkout.session.expired", sf.checkout_session(S, status="expired")
    )

    assert response.json()["action"] == "nothing_to_release"
    assert await shop.counters() == (3, 0)
    assert await shop.count_documents() == before


async def test_payment_intent_succeeded_commits_the_session_that_recorded_it(shop: Shop):
    await hold_two(shop)
    await completed_unpaid(shop)

    response = await shop.stripe("evt_pi", "payment_intent.succeeded", sf.payment_intent("pi_bank"))

    assert response.json()["action"] == "committed"
    assert response.json()["sessionId"] == S
    assert await shop.counters() == (3, 0)


async def test_payment_intent_succeeded_finds_the_session_in_stocksync_metadata(shop: Shop):
    await hold_two(shop)
    response = await shop.stripe(
        "evt_pi",
        "payment_intent.succeeded",
        sf.payment_intent("pi_x", metadata={"stocksync_session_id": S}),
    )
    assert response.json()["action"] == "committed"
    assert await shop.counters() == (3, 0)


async def test_payment_intent_succeeded_without_a_known_session_waits(shop: Shop):
    await hold_two(shop)
    before = await shop.count_documents()

    response = await shop.stripe("evt_pi", "payment_intent.succeeded", sf.payment_intent("pi_1"))

    assert response.status_code == 200
    assert response.json()["action"] == "left_to_checkout_event"
    assert await shop.count_documents() == before


async def test_payment_failed_is_recorded_once_and_keeps_the_hold(shop: Shop):
    await hold_two(shop)
    obj = sf.payment_intent(
        "pi_1",
        status="requires_payment_method",
        metadata={"stocksync_session_id": S},
        decline_code="generic_decline",
    )

    first = await shop.stripe("evt_fail", "payment_intent.payment_failed", obj)
    again = await shop.stripe("evt_fail", "payment_intent.payment_failed", obj)

    assert first.json()["action"] == again.json()["action"] == "recorded"
    logs = await shop.error_logs()
    assert len(logs) == 1
    assert (logs[0]["type"], logs[0]["severity"], logs[0]["sessionId"]) == (
        "webhook_processing",
        "low",
        S,
    )
    assert json.loads(logs[0]["details"])["code"] == "card_declined"
    # The customer may try another card in the same checkout.
    assert await shop.counters() == (5, 2)
    assert await shop.status(S) == "active"


async def test_payment_intent_canceled_releases(shop: Shop):
    await hold_two(shop)
    await completed_unpaid(shop)
    response = await shop.stripe(
        "evt_cancel", "payment_intent.canceled", sf.payment_intent("pi_bank", status="canceled")
    )
    assert response.json()["action"] == "released"
    assert await shop.counters() == (5, 0)


async def test_a_paid_session_without_a_reservation_is_200_and_logged_once(shop: Shop):
    obj = sf.checkout_session("cs_unknown")
    first = await shop.stripe("evt_u", "checkout.session.completed", obj)
    again = await shop.stripe("evt_u", "checkout.session.completed", obj)

    assert first.status_code == again.status_code == 200
    assert first.json()["action"] == "unknown_session"
    logs = await shop.error_logs()
    assert len(logs) == 1
    assert (logs[0]["severity"], logs[0]["sessionId"]) == ("high", "cs_unknown")
    assert "reserved no stock" in logs[0]["message"]


async def test_other_events_are_acknowledged_and_ignored(shop: Shop):
    before = await shop.count_documents()
    response = await shop.stripe("evt_c", "customer.created", {"id": "cus_1", "object": "customer"})
    assert response.status_code == 200
    assert response.json()["action"] == "ignored"
    assert await shop.count_documents() == before


async def test_variant_lines_are_committed_per_size(shop: Shop):
    await shop.reserve(S, {"productId": "halloween-tee", "size": "M", "quantity": 2})
    await shop.stripe("evt_1", "checkout.session.completed", sf.checkout_session(S))
    assert await shop.counters(TEE, "m") == (0, 0)
    assert await shop.counters(TEE, "s") == (3, 0)


async def test_store_down_answers_503_so_stripe_retries(shop: Shop):
    await hold_two(shop)
    obj = sf.checkout_session(S)
    shop.store.failure = StoreUnavailable("lake unplugged")

    response = await shop.stripe("evt_1", "checkout.session.completed", obj)

    assert_error_shape(response, 503, "store_unavailable")
    assert "Retry-After" in response.headers
    shop.store.failure = None
    assert await shop.counters() == (5, 2)

    retried = await shop.stripe("evt_1", "checkout.session.completed", obj)
    assert retried.json()["action"] == "committed"
    assert await shop.counters() == (3, 0)


class _AlwaysConflicting:
    """Reads work, every write loses a race."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.kind = inner.kind

    async def get_documents(self, ids: Sequence[str], **kwargs: Any) -> Any:
        return await self.inner.get_documents(ids, **kwargs)

    async def query(self, groq: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return await self.inner.query(groq, params, **kw)

    async def mutate(self, mutations: Sequence[Mutation], **kwargs: Any) -> MutationResult:
        raise RevisionConflict(
            "moved", index=0, document_id="x", current_revision="b", expected_revision="a"
        )


async def test_exhausted_conflict_retries_answer_503(shop: Shop):
    await hold_two(shop)
    inventory = shop.inventory
    real = inventory.executor.store
    inventory.executor.store = _AlwaysConflicting(real)  # type: ignore[assignment]
    try:
        response = await shop.stripe("evt_1", "checkout.session.completed", sf.checkout_session(S))
    finally:
        inventory.executor.store = real
    assert_error_shape(response, 503, "conflict_retries_exhausted")
    assert await shop.counters() == (5, 2)

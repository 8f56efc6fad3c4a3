"""The fake Stripe and the event builders: Stripe's fixture shapes, its documented lifecycles
and API-version differences, and the API answered over HTTP to the stripe library itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import stripe

from tests.support.stripe import events, objects, reference
from tests.support.stripe.fake import FakeStripe, StripeInvalidRequest
from tests.support.stripe.server import serve

KEY = "sk_test_fake_key"


@pytest.fixture
def fake() -> FakeStripe:
    return FakeStripe(api_key=KEY)


@pytest.fixture
def served(fake: FakeStripe) -> Iterator[str]:
    with serve(fake) as base:
        yield base


@pytest.fixture
async def client(served: str) -> AsyncIterator[stripe.StripeClient]:
    http = stripe.HTTPXClient()
    yield stripe.StripeClient(
        KEY, base_addresses={"api": served}, http_client=http, max_network_retries=0
    )
    await http.close_async()  # type: ignore[no-untyped-call]


def types(sent: list[dict[str, object]]) -> list[object]:
    return [e["type"] for e in sent]


# -- shapes ------------------------------------------------------------------------------


def test_objects_keep_every_field_of_stripes_fixture() -> None:
    for resource, built in [
        ("checkout.session", objects.checkout_session("cs_test_1")),
        ("payment_intent", objects.payment_intent("pi_test_1")),
        ("refund", objects.refund("re_test_1", charge="ch_1", payment_intent="pi_1")),
    ]:
        assert set(reference.fixture(resource)) <= set(built), resource
    assert set(objects.charge("ch_1", payment_intent="pi_1")) == set(
        reference.fixture("charge")
    ) - {"refunds"}


def test_a_snapshot_event_has_stripes_envelope_and_a_thin_event_has_no_data() -> None:
    session = objects.checkout_session("cs_test_1")
    evt = events.event("checkout.session.expired", session)
    assert set(reference.fixture("event")) <= set(evt)
    assert evt["object"] == "event" and evt["data"] == {"object": session}
    assert evt["api_version"] == events.CURRENT_API_VERSION

    thin = events.thin_event()
    assert thin["object"] == "v2.core.event" and "data" not in thin
    assert set(thin["related_object"]) == {"id", "type", "url"}
    assert isinstance(thin["created"], str) and thin["created"].endswith("Z")


def test_the_fixtures_are_skipped_cleanly_when_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(reference.ENV_VARIABLE, "/nowhere/fixtures3.json")
    reference._resources.cache_clear()
    try:
        with pytest.raises(pytest.skip.Exception):
            reference.fixture("refund")
    finally:
        monkeypatch.undo()
        reference._resources.cache_clear()


# -- lifecycles --------------------------------------------------------------------------


def test_a_card_checkout_completes_paid_with_the_events_stripe_sends(fake: FakeStripe) -> None:
    session = fake.create_session(client_reference_id="cart-7", expires_in=1800)
    assert (session["status"], session["payment_status"], session["payment_intent"]) == (
        "open",
        "unpaid",
        None,
    )
    assert session["expires_at"] - session["created"] == 1800

    sent = fake.pay(session["id"])

    assert types(sent) == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    completed = sent[-1]["data"]["object"]
    assert (completed["status"], completed["payment_status"]) == ("complete", "paid")
    assert completed["client_reference_id"] == "cart-7" and completed["url"] is None
    intent = fake.intents[completed["payment_intent"]]
    assert fake.charges[intent["latest_charge"]]["payment_intent"] == intent["id"]


def test_checkout_refuses_an_expiry_outside_30_minutes_to_24_hours(fake: FakeStripe) -> None:
    for seconds in (29 * 60, 24 * 3600 + 1):
        with pytest.raises(StripeInvalidRequest, match="between 30 minutes and 24 hours"):
            fake.create_session(expires_in=seconds)


def test_a_delayed_method_completes_unpaid_then_settles_or_fails(fake: FakeStripe) -> None:
    first, second = fake.create_session()["id"], fake.create_session()["id"]

    pending = fake.pay(first, delayed=True)
    assert types(pending) == ["payment_intent.processing", "checkout.session.completed"]
    assert pending[-1]["data"]["object"]["payment_status"] == "unpaid"
    assert types(fake.settle(first)) == [
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded",
    ]

    fake.pay(second, delayed=True)
    assert types(fake.settle(second, succeeded=False)) == [
        "payment_intent.payment_failed",
        "checkout.session.async_payment_failed",
    ]


def test_a_declined_card_fails_the_attempt_and_leaves_the_session_open(fake: FakeStripe) -> None:
    session = fake.create_session()["id"]
    failed = fake.decline(session, "insufficient_funds")
    intent = failed["data"]["object"]
    assert failed["type"] == "payment_intent.payment_failed"
    assert intent["status"] == "requires_payment_method"
    assert intent["last_payment_error"]["decline_code"] == "insufficient_funds"
    assert fake.sessions[session]["status"] == "open"
    assert types(fake.pay(session))[-1] == "checkout.session.completed"


@pytest.mark.parametrize(
    ("api_version", "refund_events", "listed"),
    [
        (events.CURRENT_API_VERSION, True, False),
        ("2024-10-28.acacia", True, False),
        ("2023-10-16", False, False),
        ("2020-08-27", False, True),
    ],
)
def test_refund_events_follow_the_endpoints_api_version(
    api_version: str, refund_events: bool, listed: bool
) -> None:
    fake = FakeStripe(api_key=KEY, api_version=api_version)
    session = fake.create_session()["id"]
    fake.pay(session)

    refund, sent = fake.refund(
        session, amount=2000, status="pending", lines=[{"productId": "a", "quantity": 1}]
    )

    assert types(sent) == (["refund.created"] if refund_events else []) + ["charge.refunded"]
    charge = sent[-1]["data"]["object"]
    assert (charge["amount_refunded"], charge["refunded"]) == (2000, False)
    assert ("refunds" in charge) is listed
    if listed:
        assert [r["id"] for r in charge["refunds"]["data"]] == [refund["id"]]
    assert refund["metadata"]["stocksync_lines"] == '[{"productId":"a","quantity":1}]'

    failed = fake.update_refund(refund["id"], "failed", failure_reason="expired_or_canceled_card")
    if refund_events:
        assert types(failed) == ["refund.updated", "refund.failed"]
    else:
        assert types(failed) == ["charge.refund.updated"]
    assert failed[0]["data"]["previous_attributes"]["status"] == "pending"
    assert failed[0]["data"]["object"]["failure_reason"] == "expired_or_canceled_card"


def test_refunds_cannot_exceed_what_is_left_on_the_charge(fake: FakeStripe) -> None:
    session = fake.create_session(amount=5000)["id"]
    fake.pay(session)
    fake.refund(session, amount=3000)
    with pytest.raises(StripeInvalidRequest, match="greater than unrefunded"):
        fake.refund(session, amount=2500)
    _, sent = fake.refund(session)
    assert sent[-1]["data"]["object"]["refunded"] is True


def test_events_are_drained_in_order(fake: FakeStripe) -> None:
    session = fake.create_session()["id"]
    fake.pay(session)
    assert types(fake.drain())[-1] == "checkout.session.completed"
    assert fake.drain() == []
    assert len(fake.events) == 3


# -- the API, served over HTTP to the stripe library ----------------------------------------


async def test_sessions_are_retrieved_and_listed_by_payment_intent(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = fake.create_session()["id"]
    fake.pay(session)
    intent = fake.sessions[session]["payment_intent"]

    found = await client.v1.checkout.sessions.retrieve_async(session)
    listed = await client.v1.checkout.sessions.list_async({"payment_intent": intent, "limit": 1})

    assert (found.id, found.status, found.payment_status) == (session, "complete", "paid")
    assert [s.id for s in listed.data] == [session]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        await client.v1.checkout.sessions.retrieve_async("cs_test_missing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")


async def test_expiring_works_once_while_open(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = fake.create_session()["id"]

    expired = await client.v1.checkout.sessions.expire_async(session)

    assert expired.status == "expired"
    assert types(fake.drain()) == ["checkout.session.expired"]
    with pytest.raises(stripe.InvalidRequestError, match="can be expired") as again:
        await client.v1.checkout.sessions.expire_async(session)
    assert again.value.http_status == 400
    assert [c.path for c in fake.calls("POST")] == [f"/v1/checkout/sessions/{session}/expire"] * 2


async def test_refunds_and_payment_intents_are_retrieved(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = fake.create_session()["id"]
    fake.pay(session)
    refund, _ = fake.refund(session, status="pending")

    found = await client.v1.refunds.retrieve_async(refund["id"])
    intent = await client.v1.payment_intents.retrieve_async(refund["payment_intent"])
    listed = await client.v1.refunds.list_async({"payment_intent": intent.id})

    assert (found.status, found.payment_intent) == ("pending", intent.id)
    assert intent.status == "succeeded"
    assert [r.id for r in listed.data] == [refund["id"]]


async def test_a_wrong_key_and_injected_failures_answer_as_stripe_does(
    fake: FakeStripe, served: str
) -> None:
    http = stripe.HTTPXClient()
    wrong = stripe.StripeClient(
        "sk_test_wrong", base_addresses={"api": served}, http_client=http, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError):
        await wrong.v1.checkout.sessions.retrieve_async("cs_test_x")
    right = stripe.StripeClient(
        KEY, base_addresses={"api": served}, http_client=http, max_network_retries=0
    )
    fake.fail_next(429)
    with pytest.raises(stripe.RateLimitError):
        await right.v1.checkout.sessions.retrieve_async("cs_test_x")
    fake.fail_next(500)
    with pytest.raises(stripe.APIError):
        await right.v1.checkout.sessions.retrieve_async("cs_test_x")
    await http.close_async()  # type: ignore[no-untyped-call]

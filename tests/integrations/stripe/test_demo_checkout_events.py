"""The events `stocksync demo checkout` sends have Stripe's shape: every field is one of the
fields of Stripe's published fixture object, with the same type, and the signature is the
one the service verifies."""

from __future__ import annotations

from typing import Any

import pytest

from service.entrypoints.cli.demo_checkout import (
    charge_refunded,
    checkout_session_completed,
    event,
    signed,
)
from service.integrations.stripe.signature import verify_stripe_event
from tests.support.stripe.reference import fixture


def assert_shaped_like(ours: dict[str, Any], stripes: dict[str, Any], where: str) -> None:
    for key, value in ours.items():
        assert key in stripes, f"{where}.{key} is not a field of Stripe's object"
        theirs = stripes[key]
        if value is None or theirs is None:
            continue
        if isinstance(theirs, dict) and isinstance(value, dict) and theirs:
            assert_shaped_like(value, theirs, f"{where}.{key}")
        else:
            assert type(value) is type(theirs), (where, key, value, theirs)


@pytest.mark.parametrize(
    ("resource", "obj"),
    [
        ("checkout.session", checkout_session_completed("cs_test_1", "pi_test_1", 5000, 1)),
        ("charge", charge_refunded("ch_test_1", "pi_test_1", 5000, 1)),
    ],
)
def test_event_objects_have_the_fields_of_stripes_fixtures(
    resource: str, obj: dict[str, Any]
) -> None:
    assert obj["object"] == resource
    assert_shaped_like(obj, fixture(resource), resource)


def test_the_envelope_is_stripes_event_and_the_service_verifies_its_signature() -> None:
    evt = event("checkout.session.completed", checkout_session_completed("cs_1", "pi_1", 1, 1), 1)
    assert_shaped_like({k: v for k, v in evt.items() if k != "data"}, fixture("event"), "event")
    assert set(evt) == set(fixture("event"))
    body, headers = signed(evt, "whsec_test_secret")
    verified = verify_stripe_event(body, headers["Stripe-Signature"], ["whsec_test_secret"])
    assert verified.id == evt["id"] and verified.type == "checkout.session.completed"

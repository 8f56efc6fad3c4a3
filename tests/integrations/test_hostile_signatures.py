"""Issue 12 item 3: signature headers are parsed within bounds; a stranger's bytes get a 400."""

from __future__ import annotations

import pytest

from service.integrations.errors import WebhookRejected
from service.integrations.sanity.signature import verify_sanity_signature
from service.integrations.stripe.signature import verify_stripe_event

BODY = b'{"_id":"resume"}'


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("t=" + "9" * 4300 + ",v1=abc", id="4300-digit-t"),
        pytest.param("t=" + "1" * 5000 + ",v1=abc", id="5000-digit-t"),
        pytest.param("t=1633519811129,v1=" + "a" * 10_000, id="huge-signature"),
        pytest.param("t=1633519811129,v1=\u00e9\u00e9", id="non-ascii-signature"),
        pytest.param("t=1633519811129, v1=x" + " " * 5000, id="padding"),
    ],
)
def test_sanity_signature_headers_out_of_bounds_are_a_400(header: str) -> None:
    with pytest.raises(WebhookRejected) as refused:
        verify_sanity_signature(BODY, header, "test", now=None)
    assert (refused.value.status, refused.value.code) == (400, "invalid_signature")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("t=1700000000,v1=\u00e9abc", id="non-ascii-signature"),
        pytest.param("t=" + "9" * 4000 + ",v1=abc", id="4000-digit-t"),
        pytest.param("t=1,t=2,v1=abc", id="two-timestamps"),
        pytest.param("t=1700000000," + ",".join(["v1=ab"] * 500), id="500-signatures"),
        pytest.param("v1=abc", id="no-timestamp"),
    ],
)
def test_stripe_signature_headers_out_of_bounds_are_a_400(header: str) -> None:
    with pytest.raises(WebhookRejected) as refused:
        verify_stripe_event(b'{"id": "evt_1"}', header, ["whsec_test"])
    assert (refused.value.status, refused.value.code) == (400, "invalid_signature")

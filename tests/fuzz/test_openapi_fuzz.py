"""schemathesis against `/openapi.json`: no 5xx, and every answer is the one documented.

Every operation in the schema is fuzzed (the `/console` pages are not in it), with valid
credentials for its route: the storefront key, an admin staff key, the cron secret, or a
Stripe / Sanity signature computed over the exact body sent, so the fuzzer reaches the
handlers behind the checks (`ignored_auth` is left to `tests/entrypoints/http/test_auth.py`).
"""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.app import seeded_app
from tests.fuzz.credentials import SIGNED_SCHEMES, headers_for, raw_body

#: A schema-violating body can also be too large: 413 (documented on every route with a
#: body) is as much a rejection as 400.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "406",
                    "409",
                    "413",
                    "415",
                    "422",
                    "428",
                    "429",
                    "5xx",
                ]
            }
        }
    }
)

schema = schemathesis.openapi.from_asgi("/openapi.json", seeded_app(), config=CONFIG)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

#: Examples per operation and phase: enough to find a crash, bounded for CI (~20 s here).
MAX_EXAMPLES = 40


def _security_schemes(case: schemathesis.Case[Any]) -> list[str]:
    requirements: list[dict[str, Any]] = case.operation.definition.raw.get("security", [])
    return [name for requirement in requirements for name in requirement]


# The live stock stream never ends, and the ASGI client reads an answer to its end; its
# errors and events are tested in tests/entrypoints/http/test_stock_stream.py.
@schema.exclude(path="/api/stock-stream").parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_answers_as_documented(case: schemathesis.Case[Any]) -> None:
    schemes = _security_schemes(case)
    body = raw_body(case.body)
    response = case.call_and_validate(headers=headers_for(schemes, body), checks=CHECKS)
    positive = case.meta is not None and case.meta.generation.mode.is_positive
    if positive and SIGNED_SCHEMES.intersection(schemes):
        # The signature covers the bytes sent, so the fuzzer got past it: otherwise this
        # test would only ever fuzz the signature check.
        assert "signature" not in response.json().get("code", ""), response.text

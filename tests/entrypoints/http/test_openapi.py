"""`/openapi.json` and `/docs` describe every route, its auth and its errors truthfully."""

from __future__ import annotations

from typing import Any

import httpx

ROUTES = {
    ("post", "/api/reserve-stock"),
    ("post", "/api/release-stock"),
    ("get", "/api/stock-status"),
    ("get", "/api/stock-stream"),
    ("post", "/api/stock-status"),
    ("get", "/api/inventory-health"),
    ("post", "/api/inventory-health"),
    ("get", "/api/cron/cleanup"),
    ("get", "/api/cron/reconcile"),
    ("get", "/api/cron/reorder-digest"),
    ("post", "/api/inventory/adjust"),
    ("get", "/api/inventory/history/{product_id}"),
    ("get", "/api/inventory/reservations"),
    ("get", "/api/inventory/backorders"),
    ("post", "/api/inventory/transfer"),
    ("get", "/api/inventory/locations"),
    ("get", "/api/inventory/errors"),
    ("post", "/api/inventory/errors/{error_id}/resolve"),
    ("post", "/api/inventory/reconcile"),
    ("get", "/api/inventory/reorder"),
    ("get", "/api/inventory/export"),
    ("post", "/api/inventory/import"),
    ("get", "/api/inventory/analytics"),
    ("get", "/api/health"),
    ("post", "/api/stripe-webhook"),
    ("post", "/api/webhooks/sanity"),
    ("post", "/api/checkout-sessions/{session_id}/fulfill"),
}


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


async def test_every_route_is_documented(client: httpx.AsyncClient):
    paths = (await openapi(client))["paths"]
    documented = {(method, path) for path, item in paths.items() for method in item}
    assert documented == ROUTES


async def test_errors_are_documented_with_the_one_shape_and_no_422(client: httpx.AsyncClient):
    spec = await openapi(client)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.rsplit("/", 1)[1] in {
                        "ErrorBody",
                        "ValidationErrorBody",
                        "ReserveFailureBody",
                    }, (method, path, status)
    reserve = spec["paths"]["/api/reserve-stock"]["post"]["responses"]
    assert reserve["409"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "ReserveFailureBody"
    )


async def test_protected_routes_declare_their_security(client: httpx.AsyncClient):
    spec = await openapi(client)
    schemes = set(spec["components"]["securitySchemes"])
    assert schemes == {
        "storefrontBearer",
        "storefrontApiKey",
        "cronBearer",
        "staffBearer",
        "staffApiKey",
        "stripeSignature",
        "sanitySignature",
    }
    public = {"/api/health", "/api/inventory-health", "/api/stock-status", "/api/stock-stream"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path in public and method == "get":
                assert "security" not in operation, path
            else:
                assert operation.get("security"), (method, path)


async def test_request_schemas_are_closed_and_bounded_with_examples(client: httpx.AsyncClient):
    schemas = (await openapi(client))["components"]["schemas"]
    reserve = schemas["ReserveStockRequest"]
    assert reserve["additionalProperties"] is False
    assert reserve["examples"]
    assert reserve["properties"]["operations"]["minItems"] == 1
    operation = schemas["StockOperation"]
    # Cart lines may carry the cart's own fields (name, price, ...): they are ignored.
    assert operation.get("additionalProperties", True) is not False
    assert operation["properties"]["quantity"]["minimum"] == 1
    assert "maximum" in operation["properties"]["quantity"]
    assert set(operation["required"]) == {"productId", "quantity"}
    assert schemas["AdjustRequestBody"]["examples"]


async def test_the_docs_page_is_served(client: httpx.AsyncClient):
    response = await client.get("/docs")
    assert response.status_code == 200 and "swagger" in response.text.lower()


def test_documented_examples_are_valid_payloads():
    from service.entrypoints.http.error_responses import ErrorBody, ReserveFailureBody
    from service.entrypoints.http.staff_models import AdjustRequestBody
    from service.entrypoints.http.storefront_models import (
        ReleaseStockRequest,
        ReserveStockRequest,
        ReserveStockResponse,
        StockCheckRequest,
        StockStatusResponse,
    )

    models = (
        ReserveStockRequest,
        ReserveStockResponse,
        ReleaseStockRequest,
        StockCheckRequest,
        StockStatusResponse,
        AdjustRequestBody,
        ErrorBody,
        ReserveFailureBody,
    )
    for model in models:
        examples = model.model_json_schema()["examples"]
        assert examples, model
        for example in examples:
            model.model_validate(example)

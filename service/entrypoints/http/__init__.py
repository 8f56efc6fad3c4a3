"""The HTTP API: routers by concern, their payload models, auth dependencies, error handling.

`service.entrypoints.http.app.create_app` includes
`service.entrypoints.http.routers.api_routers()` in order. A router module holds routes only;
payload shapes live in its `*_models` module and translate engine results into the storefront
contract's field names.
"""

"""Bases of the HTTP payload models: camelCase on the wire, snake_case in Python."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class RequestModel(BaseModel):
    """A request body: unknown fields refused, only the camelCase names accepted.

    `extra="forbid"` puts `additionalProperties: false` in the OpenAPI schema, so a fuzzer
    and the service agree on what is valid.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        extra="forbid",
        validate_by_alias=True,
        validate_by_name=False,
    )


class LineModel(RequestModel):
    """A cart line: fields stocksync does not use (`name`, `price`, `image`, ... as carts
    send them) are ignored, so a storefront can post its cart lines as they are. The fields
    stocksync reads stay required and checked; the OpenAPI schema then allows other
    properties, so a fuzzer and the service still agree."""

    model_config = ConfigDict(extra="ignore")


class ResponseModel(BaseModel):
    """A response body, built in Python by field name and sent with camelCase names."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
    )

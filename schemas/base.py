"""Building blocks shared by every document and payload model.

Sanity keeps system fields under names that start with `_` (`_id`, `_type`, `_rev`,
`_key`), which pydantic treats as private; the models expose them as `id`, `type`, `rev`
and `key` with the Sanity name as alias. Every model dumps to Sanity's JSON shape with
`to_document()` / `model_dump(by_alias=True, mode="json")`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with millisecond precision and a `Z`, as Sanity writes timestamps.

    One fixed format keeps stored timestamps comparable as plain strings too.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _as_utc(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


#: A point in time; dumps as `2026-11-21T12:00:00.000Z`.
Timestamp = Annotated[
    datetime,
    BeforeValidator(_as_utc),
    PlainSerializer(format_timestamp, return_type=str, when_used="json"),
]


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages an editor or a caller can act on."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _counter(value: Any) -> Any:
    """A stock counter as stored: missing -> 0 (documents created by Studio or imports may
    lack counters), `5.0` -> 5 (JavaScript writes some integers so); anything else that is
    not a whole number (5.5, "5", true, an object) cannot be counted with and is refused, so
    the product is quarantined instead of being read as a guess."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        raise ValueError(f"must be a whole number, not {value!r}")
    raise ValueError(f"must be a whole number, not {json_type(value)}")


def _whole_number(value: Any) -> Any:
    """A quantity in a request: a JSON integer (`2.0` is taken as 2, since some clients
    serialise integers so); `true`, text like "2" and fractions are refused, never guessed."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        raise ValueError(f"must be a whole number, not {value!r}")
    raise ValueError(f"must be a whole number, not {json_type(value)}")


#: JSON-schema hint for the Studio schema: a long or JSON string, shown as a text area.
TEXT: JsonDict = {"x-studio-type": "text"}

#: A stock counter as stored on a product or variant (missing -> 0, 5.0 -> 5, else strict).
Counter = Annotated[int, BeforeValidator(_counter)]

#: A whole number in a request payload (quantities, stock figures): strict, 2.0 -> 2.
WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class Model(BaseModel):
    """Base of every model: camelCase on the wire, snake_case in Python."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
    )

    def to_json_dict(self) -> dict[str, Any]:
        """The JSON shape (aliases, RFC 3339 timestamps, no `None` fields)."""
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)


class SanityDocument(Model):
    """System fields every Sanity document carries."""

    id: str = Field(alias="_id")
    type: str = Field(alias="_type")
    rev: str | None = Field(default=None, alias="_rev")
    created_at_system: str | None = Field(default=None, alias="_createdAt")
    updated_at_system: str | None = Field(default=None, alias="_updatedAt")

    def to_document(self) -> dict[str, Any]:
        """The document to write: system fields the store sets itself are left out."""
        doc = self.to_json_dict()
        for system in ("_rev", "_createdAt", "_updatedAt"):
            doc.pop(system, None)
        return doc

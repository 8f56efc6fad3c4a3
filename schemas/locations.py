"""`stockLocation`: a place stock is kept (a warehouse, a shop), editor-owned.

Products and variants count stock per location in `locationStock` (see `schemas.product`);
their `stockQuantity` / `reservedQuantity` stay the totals, so readers that know nothing of
locations keep working. Reserve takes stock from active locations, lowest `priority` first.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from schemas.base import SanityDocument
from schemas.product import Slug

LOCATION_TYPE: Final = "stockLocation"


def _priority(value: object) -> object:
    """Read tolerantly: a missing or odd priority sorts last instead of failing the read."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 1_000_000
    return int(value)


def _active(value: object) -> object:
    """Unset means active (a new location sells at once); only `false` switches it off."""
    return value is not False


class StockLocation(SanityDocument):
    model_config = ConfigDict(extra="allow", title="Stock location")

    type: Literal["stockLocation"] = Field(default=LOCATION_TYPE, alias="_type")
    name: str | None = Field(default=None, description="As staff call it, e.g. Main warehouse.")
    slug: Slug | None = Field(
        default=None,
        description="Short name the API uses (`location=`, `from`, `to`).",
        json_schema_extra={"x-studio-type": "slug"},
    )
    priority: Annotated[int, BeforeValidator(_priority)] = Field(
        default=1_000_000,
        description="Reserve takes stock from lower numbers first.",
        json_schema_extra={"minimum": 0},
    )
    active: Annotated[bool, BeforeValidator(_active)] = Field(
        default=True,
        description="Inactive locations keep their stock (it counts in the totals) but sell "
        "nothing: availability counts active locations only.",
    )

    @property
    def slug_current(self) -> str | None:
        return self.slug.current if self.slug else None

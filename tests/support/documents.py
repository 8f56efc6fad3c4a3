"""Hypothesis strategies: product documents as any Studio, script or import could save them.

The shapes follow what Sanity Studio actually stores (Sanity's "Document" and schema-type
reference): system fields `_id`/`_type`/`_rev`/`_createdAt`/`_updatedAt`; `slug` as
`{"_type": "slug", "current": ...}`; localized titles as an object per locale (field-level
translation) or as sanity-plugin-internationalized-array items `{"_key": "en", "_type":
"internationalizedArrayStringValue", "value": ...}`; Portable Text blocks; arrays of objects
with a `_key`; references `{"_type": "reference", "_ref": ..., "_weak": ...}`; images with an
asset reference. On top of those, any field may hold any JSON value, be missing, and any
document may carry extra fields: a schema change in the shop's Studio or a script can leave
exactly that behind. Integers stay within the 64-bit range Sanity accepts; strings never
hold lone surrogates (Sanity's JSON cannot carry them).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    max_size=12,
)
#: Attribute names as Sanity accepts them.
NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True)
KEYS = st.from_regex(r"[a-z0-9]{6,12}", fullmatch=True)
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)

SCALARS = (
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | TEXT
)

#: Any JSON value Sanity could store (bounded in size so an example stays fast).
ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=12,
)


def _keyed(item: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """An array of objects as Studio saves it: every item carries a unique `_key`."""
    return st.lists(item, max_size=4).flatmap(
        lambda items: st.lists(KEYS, min_size=len(items), max_size=len(items), unique=True).map(
            lambda keys: [{"_key": k, **i} for k, i in zip(keys, items, strict=True)]
        )
    )


REFERENCE = st.fixed_dictionaries(
    {"_type": st.just("reference"), "_ref": st.uuids().map(str)},
    optional={"_weak": st.booleans(), "_key": KEYS},
)
IMAGE = st.fixed_dictionaries(
    {
        "_type": st.just("image"),
        "asset": st.fixed_dictionaries(
            {
                "_type": st.just("reference"),
                "_ref": st.from_regex(
                    r"image-[a-f0-9]{12}-[1-9][0-9]{1,3}x[1-9][0-9]{1,3}-png", fullmatch=True
                ),
            }
        ),
    }
)
LOCALE_STRING = st.fixed_dictionaries(
    {"_type": st.just("localeString")},
    optional={"en": TEXT, "de": TEXT, "fr": TEXT | st.none()},
)
I18N_ARRAY = _keyed(
    st.fixed_dictionaries(
        {"_type": st.just("internationalizedArrayStringValue"), "value": TEXT | st.none()}
    )
)
BLOCKS = _keyed(
    st.fixed_dictionaries(
        {
            "_type": st.just("block"),
            "style": st.just("normal"),
            "markDefs": st.just([]),
            "children": _keyed(
                st.fixed_dictionaries(
                    {"_type": st.just("span"), "text": TEXT, "marks": st.just([])}
                )
            ),
        }
    )
)
TITLES = TEXT | LOCALE_STRING | I18N_ARRAY | BLOCKS | ANY_JSON
SLUGS = st.fixed_dictionaries({"_type": st.just("slug"), "current": TEXT}) | TEXT | ANY_JSON

#: Counters as people and scripts write them: mostly whole numbers, sometimes not.
COUNTS = (
    st.integers(min_value=0, max_value=1000)
    | st.integers(min_value=0, max_value=1000).map(float)
    | st.integers(min_value=-5, max_value=-1)
    | ANY_JSON
)
#: Counters a well-formed product holds.
GOOD_COUNTS = st.integers(min_value=0, max_value=1000)

#: Issue 17's fields as editors and scripts could write them.
POLICIES = st.sampled_from(["deny", "backorder", "preorder"]) | TEXT | ANY_JSON
DATES = st.dates().map(lambda d: d.isoformat()) | TEXT | ANY_JSON
LOCATION_ROWS = (
    _keyed(
        st.fixed_dictionaries(
            {"_type": st.just("locationStock")},
            optional={"location": REFERENCE | ANY_JSON, "stock": COUNTS, "reserved": COUNTS},
        )
    )
    | st.lists(ANY_JSON, max_size=2)
    | ANY_JSON
)
POLICY_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "inventoryPolicy": POLICIES,
    "backorderLimit": COUNTS,
    "availableFrom": DATES,
    "backorderedQuantity": COUNTS,
    "backorderReservedQuantity": COUNTS,
    "locationStock": LOCATION_ROWS,
}

VARIANT = st.fixed_dictionaries(
    {"_type": st.just("variant")},
    optional={
        "size": TEXT | st.integers(min_value=0, max_value=60) | ANY_JSON,
        "sku": TEXT | INT64 | ANY_JSON,
        "stockQuantity": COUNTS,
        "reservedQuantity": COUNTS,
        "stripePriceId": TEXT | ANY_JSON,
        "extra": ANY_JSON,
        **POLICY_FIELDS,
    },
)
VARIANTS = _keyed(VARIANT) | st.lists(VARIANT | ANY_JSON, max_size=3) | ANY_JSON


@st.composite
def product_documents(draw: st.DrawFn, *, doc_id: str | None = None) -> dict[str, Any]:
    """A product document as any Studio or script could save it (see the module docstring)."""
    document: dict[str, Any] = {
        "_id": doc_id or draw(st.uuids().map(str)),
        "_type": "product",
    }
    optional: dict[str, st.SearchStrategy[Any]] = {
        "_rev": KEYS,
        "_createdAt": st.just("2026-11-21T12:00:00Z"),
        "_updatedAt": st.just("2026-11-21T12:00:00Z"),
        "title": TITLES,
        "slug": SLUGS,
        "stockQuantity": COUNTS,
        "reservedQuantity": COUNTS,
        "lowStockThreshold": COUNTS,
        "variants": VARIANTS,
        "category": REFERENCE | ANY_JSON,
        "images": _keyed(IMAGE),
        "price": st.floats(min_value=0, max_value=10_000) | ANY_JSON,
        **POLICY_FIELDS,
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            document[name] = draw(strategy)
    document.update(draw(st.dictionaries(NAMES.map(lambda n: "x" + n), ANY_JSON, max_size=3)))
    return document


@st.composite
def good_product_documents(draw: st.DrawFn, *, doc_id: str) -> dict[str, Any]:
    """A well-formed product with whole-number stock (its answers must never change because
    a neighbour is odd)."""
    document: dict[str, Any] = {
        "_id": doc_id,
        "_type": "product",
        "title": draw(TEXT.filter(str.strip)),
        "slug": {"_type": "slug", "current": doc_id},
    }
    if draw(st.booleans()):
        sizes = draw(
            st.lists(
                st.sampled_from(["xs", "s", "m", "l", "xl"]), unique=True, min_size=1, max_size=4
            )
        )
        document["variants"] = [
            {
                "_key": f"size-{size}",
                "_type": "variant",
                "size": size,
                "stockQuantity": draw(GOOD_COUNTS),
                "reservedQuantity": 0,
            }
            for size in sizes
        ]
    else:
        document["stockQuantity"] = draw(GOOD_COUNTS)
        document["reservedQuantity"] = 0
    return document

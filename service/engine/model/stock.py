"""`ProductStock`: one product's counters as read, with the changes planned on them.

The aggregate of the domain (Cosmic Python's `Product`): its version is the `_rev` of the
published document and of each draft or release copy. Stock is counted per `Cell`: the
product itself, or one variant when the product has variants. Changes are kept as deltas
against the published values; `mutations()` applies the same delta to the published
document and to every `drafts.`/`versions.` copy, each patch guarded by that copy's own
`_rev` (design rule 7), so a later Studio publish carries the service's changes along.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from copy import copy as shallow_copy
from dataclasses import dataclass
from datetime import date

from cms_client import mutations as m
from cms_client.store import Document, Mutation
from schemas.operations import LineCode
from schemas.product import InventoryPolicy, Product, Quarantine, Variant, read_product
from schemas.reservation import Fulfilment, ReservationItem
from service.engine.errors import ProductQuarantined
from service.engine.model.locations import LocationDelta, Site, merge, site_of, take_in_order

STOCK_FIELD = "stockQuantity"
RESERVED_FIELD = "reservedQuantity"
#: Paid units owed beyond stock (open backorders), and units held beyond stock by open
#: checkouts: only products with an inventory policy other than `deny` ever move them.
BACKORDERED_FIELD = "backorderedQuantity"
BACKORDER_RESERVED_FIELD = "backorderReservedQuantity"
COUNTER_FIELDS = (STOCK_FIELD, RESERVED_FIELD, BACKORDERED_FIELD, BACKORDER_RESERVED_FIELD)
LOCATION_FIELD = "locationStock"


@dataclass(frozen=True)
class Cell:
    """Where a quantity is counted: a product (`index is None`) or one of its variants."""

    product_id: str
    variant_key: str | None = None
    size: str | None = None
    #: Position in the published document's `variants`; None for product-level stock.
    index: int | None = None

    @property
    def ident(self) -> str:
        """Identity of the cell within its product, stable across copies."""
        if self.index is None:
            return "-"
        if self.variant_key:
            return "key:" + self.variant_key
        return "size:" + (self.size or "").casefold()

    def label(self) -> str:
        if self.index is None:
            return self.product_id
        return f"{self.product_id} ({self.size or self.variant_key})"


def _same_size(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().casefold() == b.strip().casefold()


def _read_counter(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


class ProductStock:
    """Counters of one product and its copies; the planner changes them through `change`."""

    def __init__(
        self,
        published: Document,
        copies: Sequence[Document] = (),
        sites: Mapping[str, Site] | None = None,
    ) -> None:
        """Raises `ProductQuarantined` when the stock fields cannot be interpreted."""
        self.doc = published
        self.copies = list(copies)
        #: Stock locations read with the product (by `_id`); see `model.locations`. None:
        #: not read (a display of totals), so availability is the totals' own.
        self.sites = dict(sites) if sites is not None else None
        found = read_product(published)
        if isinstance(found, Quarantine):
            raise ProductQuarantined(found)
        self.product = found
        self.id = self.product.id
        #: cell ident -> counter field (or `loc:<location id>:stock|reserved`) -> delta.
        self._deltas: dict[str, dict[str, int]] = {}
        #: cell ident -> counter field -> the value reconcile sets (published and copies).
        self._repairs: dict[str, dict[str, int]] = {}
        self._cells = self._build_cells()

    # -- reading ---------------------------------------------------------------------------

    @property
    def title(self) -> str | None:
        """The title as text in whatever shape it was saved (None when there is none)."""
        return self.product.title

    @property
    def slug(self) -> str | None:
        return self.product.slug_current

    @property
    def has_variants(self) -> bool:
        return bool(self.product.variants)

    def name(self, cell: Cell | None = None) -> str:
        """How messages name the product (and size): its title, else slug, else `_id`, so
        a person reading a refusal or an error log recognises it."""
        name = self.title or self.slug or self.id
        if cell is None or cell.index is None:
            return name
        return f"{name} size {cell.size or cell.variant_key}"

    def cells(self) -> list[Cell]:
        return list(self._cells.values())

    def _build_cells(self) -> dict[str, Cell]:
        if not self.product.variants:
            cell = Cell(self.id)
            return {cell.ident: cell}
        cells: dict[str, Cell] = {}
        for index, variant in enumerate(self.product.variants):
            cell = Cell(self.id, variant.key, variant.size, index)
            # A second variant with the same identity cannot be told apart; the first wins.
            cells.setdefault(cell.ident, cell)
        return cells

    def find(self, variant_key: str | None, size: str | None) -> Cell | LineCode:
        """The cell a line names, or why there is none.

        `variant_key` wins over `size`; sizes compare case-insensitively. A product without
        variants accepts no variant selector.
        """
        size = size.strip() if size and size.strip() else None
        variant_key = variant_key or None
        if not self.has_variants:
            if variant_key or size:
                return "variant_not_found"
            return self._cells["-"]
        if variant_key:
            for cell in self._cells.values():
                if cell.variant_key == variant_key:
                    return cell
            return "variant_not_found"
        if size:
            for cell in self._cells.values():
                if _same_size(cell.size, size):
                    return cell
            return "variant_not_found"
        return "variant_required"

    def find_item(self, item: ReservationItem) -> Cell | None:
        """The cell a reservation item holds stock in, if the product still has it."""
        found = self.find(item.variant_key, None if item.variant_key else item.size)
        if isinstance(found, Cell):
            return found
        if item.variant_key and item.size:
            # The variant was re-created with a new key: fall back to its size.
            by_size = self.find(None, item.size)
            return by_size if isinstance(by_size, Cell) else None
        return None

    def _variant(self, cell: Cell) -> Variant | None:
        if cell.index is None:
            return None
        return self.product.variants[cell.index]

    def stock_as_read(self, cell: Cell) -> int:
        variant = self._variant(cell)
        return variant.stock_quantity if variant else self.product.stock_quantity

    def reserved_as_read(self, cell: Cell) -> int:
        variant = self._variant(cell)
        return variant.reserved_quantity if variant else self.product.reserved_quantity

    def _delta(self, cell: Cell, field: str) -> int:
        return self._deltas.get(cell.ident, {}).get(field, 0)

    def stock(self, cell: Cell) -> int:
        return self.stock_as_read(cell) + self._delta(cell, STOCK_FIELD)

    def reserved(self, cell: Cell) -> int:
        return self.reserved_as_read(cell) + self._delta(cell, RESERVED_FIELD)

    def backordered(self, cell: Cell) -> int:
        """Paid units owed beyond stock (open backorders)."""
        variant = self._variant(cell)
        read = variant.backordered_quantity if variant else self.product.backordered_quantity
        return read + self._delta(cell, BACKORDERED_FIELD)

    def backorder_reserved(self, cell: Cell) -> int:
        """Units held beyond stock by open checkouts."""
        variant = self._variant(cell)
        read = (
            variant.backorder_reserved_quantity
            if variant
            else self.product.backorder_reserved_quantity
        )
        return read + self._delta(cell, BACKORDER_RESERVED_FIELD)

    # -- locations --------------------------------------------------------------------------

    def _row(self, cell: Cell) -> Product | Variant:
        variant = self._variant(cell)
        return variant if variant is not None else self.product

    def located(self, cell: Cell) -> bool:
        """Whether the cell counts stock per location (it has `locationStock` rows)."""
        return bool(self._row(cell).location_stock)

    def locations(self, cell: Cell) -> list[str]:
        """Location ids the cell counts stock at (rows as read, then rows being added)."""
        found = [e.location_id for e in self._row(cell).location_stock if e.location_id]
        for name in self._deltas.get(cell.ident, {}):
            if name.startswith("@"):
                location = name[1:].rsplit("/", 1)[0]
                if location not in found:
                    found.append(location)
        return list(dict.fromkeys(found))

    def site(self, location: str) -> Site:
        if self.sites is None:
            return Site(location, None, None, 1_000_000, True)
        return self.sites.get(location) or site_of(location, None)

    def in_order(self, cell: Cell, *, active: bool = True) -> list[str]:
        """The cell's locations in allocation order (active ones only, by default)."""
        sites = [self.site(loc) for loc in self.locations(cell)]
        return [s.id for s in sorted(sites, key=lambda s: s.order) if s.active or not active]

    def _entry_as_read(self, cell: Cell, location: str) -> tuple[int, int]:
        for entry in self._row(cell).location_stock:
            if entry.location_id == location:
                return entry.stock, entry.reserved
        return 0, 0

    def loc_stock(self, cell: Cell, location: str) -> int:
        return self._entry_as_read(cell, location)[0] + self._delta(cell, f"@{location}/stock")

    def loc_reserved(self, cell: Cell, location: str) -> int:
        read = self._entry_as_read(cell, location)[1]
        return read + self._delta(cell, f"@{location}/reserved")

    def loc_available(self, cell: Cell, location: str) -> int:
        """Units a location can still give: none at an inactive one."""
        if not self.site(location).active:
            return 0
        return max(0, self.loc_stock(cell, location) - self.loc_reserved(cell, location))

    def allocate(self, cell: Cell, units: int) -> list[tuple[str, int]]:
        """Where `units` would be taken: active locations in priority order, split when one
        is short (may come to fewer than `units`)."""
        order = [(loc, self.loc_available(cell, loc)) for loc in self.in_order(cell)]
        return take_in_order(order, units)

    def distribute(self, cell: Cell, stock: int, reserved: int) -> dict[str, LocationDelta]:
        """Per-location deltas for a cell-level change no planner placed itself."""
        at: dict[str, LocationDelta] = {}
        everywhere = self.in_order(cell, active=False)
        if not everywhere:
            return at
        if reserved > 0:
            placed = self.allocate(cell, reserved)
            rest = reserved - sum(n for _, n in placed)
            if rest:
                placed.append((everywhere[0], rest))
            merge(at, {loc: (0, n) for loc, n in placed})
        elif reserved < 0:
            held = [(loc, self.loc_reserved(cell, loc)) for loc in reversed(everywhere)]
            merge(at, {loc: (0, -n) for loc, n in take_in_order(held, -reserved)})
        if stock > 0:
            active = self.in_order(cell)
            merge(at, {(active or everywhere)[0]: (stock, 0)})
        elif stock < 0:
            # Where holds were just let go first (a sale), then unheld units, then any.
            released = [(loc, -d[1]) for loc, d in at.items() if d[1] < 0]
            first = take_in_order(released, -stock)
            left = -stock - sum(n for _, n in first)
            taken = dict(first)
            free = [
                (
                    loc,
                    self.loc_stock(cell, loc)
                    - taken.get(loc, 0)
                    - max(0, self.loc_reserved(cell, loc) + at.get(loc, (0, 0))[1]),
                )
                for loc in reversed(everywhere)
            ]
            second = take_in_order(free, left)
            left -= sum(n for _, n in second)
            for loc, n in second:
                taken[loc] = taken.get(loc, 0) + n
            anywhere = [
                (loc, self.loc_stock(cell, loc) - taken.get(loc, 0)) for loc in reversed(everywhere)
            ]
            for loc, n in take_in_order(anywhere, left):
                taken[loc] = taken.get(loc, 0) + n
            merge(at, {loc: (-n, 0) for loc, n in taken.items()})
        return at

    # -- policies (backorders and pre-orders) ----------------------------------------------

    def policy(self, cell: Cell) -> InventoryPolicy:
        """The cell's inventory policy: the variant's own, else the product's, else deny."""
        variant = self._variant(cell)
        if variant is not None and variant.inventory_policy is not None:
            return variant.inventory_policy
        return self.product.inventory_policy or "deny"

    def has_policy(self, cell: Cell) -> bool:
        """Whether the product says anything about policies (answers then show them)."""
        variant = self._variant(cell)
        return (
            self.product.inventory_policy is not None
            or (variant is not None and variant.inventory_policy is not None)
            or self.backordered(cell) > 0
            or self.backorder_reserved(cell) > 0
        )

    def backorder_limit(self, cell: Cell) -> int | None:
        variant = self._variant(cell)
        if variant is not None and variant.backorder_limit is not None:
            return variant.backorder_limit
        return self.product.backorder_limit

    def available_from(self, cell: Cell) -> date | None:
        variant = self._variant(cell)
        if variant is not None and variant.available_from is not None:
            return variant.available_from
        return self.product.available_from

    def backorder_available(self, cell: Cell) -> int | None:
        """Units that can still be sold beyond stock: 0 under `deny`, None when no limit
        bounds them. The limit bounds every unit owed: held beyond stock plus paid and
        not yet filled."""
        if self.policy(cell) == "deny":
            return 0
        limit = self.backorder_limit(cell)
        if limit is None:
            return None
        return max(0, limit - self.backordered(cell) - self.backorder_reserved(cell))

    def fulfilment(self, cell: Cell, backordered: int, today: date) -> Fulfilment:
        """How a line with `backordered` units beyond stock is fulfilled: from stock, or
        (any unit beyond stock) as a pre-order until its date, else as a backorder."""
        if backordered <= 0:
            return "stock"
        if self.policy(cell) == "preorder":
            shipping = self.available_from(cell)
            if shipping is None or shipping > today:
                return "preorder"
        return "backorder"

    def available(self, cell: Cell) -> int:
        """Units that can still be held or sold; never below zero. With locations: what
        the active ones can give (an inactive location's stock counts in the totals only)."""
        if self.located(cell) and self.sites is not None:
            return sum(self.loc_available(cell, loc) for loc in self.locations(cell))
        return max(0, self.stock(cell) - self.reserved(cell))

    def threshold(self, default: int) -> int:
        t = self.product.low_stock_threshold
        return default if t is None else t

    # -- changing --------------------------------------------------------------------------

    def change(
        self,
        cell: Cell,
        *,
        stock: int = 0,
        reserved: int = 0,
        backordered: int = 0,
        backorder_reserved: int = 0,
        at: Mapping[str, LocationDelta] | None = None,
    ) -> dict[str, LocationDelta]:
        """Plan a change; the planner has checked that no counter goes below zero.

        For a cell with locations, `at` places the stock and reserved changes (their sums
        must match); without it they are placed by `distribute`. Returns the placement."""
        placed: dict[str, LocationDelta] = {}
        if self.located(cell) or at:
            placed = dict(at) if at is not None else self.distribute(cell, stock, reserved)
        delta = self._deltas.setdefault(cell.ident, {})
        for location, (loc_stock, loc_reserved) in placed.items():
            for name, amount in (
                (f"@{location}/stock", loc_stock),
                (f"@{location}/reserved", loc_reserved),
            ):
                if amount:
                    delta[name] = delta.get(name, 0) + amount
        for name, amount in (
            (STOCK_FIELD, stock),
            (RESERVED_FIELD, reserved),
            (BACKORDERED_FIELD, backordered),
            (BACKORDER_RESERVED_FIELD, backorder_reserved),
        ):
            if amount:
                delta[name] = delta.get(name, 0) + amount
        return placed

    def repair_reserved(self, cell: Cell, value: int) -> None:
        """Set the reserved counter to `value` in the published document and every copy.

        Used by reconcile, where the reservations say what the counter must be; a copy that
        drifted on its own (a stale draft) is repaired too.
        """
        self.repair_counter(cell, RESERVED_FIELD, value)

    def repair_counter(self, cell: Cell, field: str, value: int) -> None:
        """Set one counter of `cell` to `value` everywhere (see `repair_reserved`)."""
        if field.startswith("@"):
            location, which = field[1:].rsplit("/", 1)
            read = self.loc_stock if which == "stock" else self.loc_reserved
            current = read(cell, location)
        else:
            current = {
                STOCK_FIELD: self.stock,
                RESERVED_FIELD: self.reserved,
                BACKORDERED_FIELD: self.backordered,
                BACKORDER_RESERVED_FIELD: self.backorder_reserved,
            }[field](cell)
        delta = self._deltas.setdefault(cell.ident, {})
        delta[field] = delta.get(field, 0) + value - current
        self._repairs.setdefault(cell.ident, {})[field] = value

    def clone(self) -> ProductStock:
        """The same product with its planned changes copied (group commit forks plans)."""
        twin = shallow_copy(self)
        twin._deltas = {ident: dict(delta) for ident, delta in self._deltas.items()}
        twin._repairs = {ident: dict(r) for ident, r in self._repairs.items()}
        return twin

    @property
    def moves_stock(self) -> bool:
        """Whether a stock-on-hand counter changes (a reserved-only change does not)."""
        return any(delta.get(STOCK_FIELD, 0) != 0 for delta in self._deltas.values())

    @property
    def changed(self) -> bool:
        return any(any(value != 0 for value in d.values()) for d in self._deltas.values()) or bool(
            self._repairs
        )

    def stale_copies(self, cell: Cell, value: int, field: str = RESERVED_FIELD) -> list[str]:
        """Ids of copies whose `field` counter for `cell` is not `value`."""
        stale = []
        for copy in self.copies:
            path = self._copy_path(copy, cell)
            if path is not None and _read_counter(_get(copy, path[1], field)) != value:
                stale.append(copy["_id"])
        return stale

    def mutations(self) -> list[Mutation]:
        """One guarded patch per document (published and copies) whose counters change."""
        out: list[Mutation] = []
        for doc in (self.doc, *self.copies):
            is_copy = doc is not self.doc
            sets: dict[str, object] = {}
            for ident, deltas in sorted(self._deltas.items()):
                cell = self._cells[ident]
                located = self._copy_path(doc, cell) if is_copy else self._own_path(cell)
                if located is None:
                    # The copy no longer has this variant: nothing to carry along.
                    continue
                prefix, variant = located
                repairs = self._repairs.get(ident, {})
                for field in COUNTER_FIELDS:
                    delta = deltas.get(field, 0)
                    current = _read_counter(_get(doc, variant, field))
                    repair = repairs.get(field)
                    if repair is not None:
                        target = repair
                    elif delta == 0:
                        continue
                    else:
                        # Copies may hold other values (an editor's pending restock): the
                        # same delta, never below zero.
                        target = max(0, current + delta)
                    if target != current:
                        sets[prefix + field] = target
                rows = self._location_rows(doc, variant, deltas, repairs)
                if rows is not None:
                    sets[prefix + LOCATION_FIELD] = rows
            if sets:
                out.append(m.patch(doc["_id"], if_revision_id=doc["_rev"], set=sets))
        return out

    def _location_rows(
        self,
        doc: Document,
        variant: dict[str, object] | None,
        deltas: Mapping[str, int],
        repairs: Mapping[str, int],
    ) -> list[object] | None:
        """The cell's `locationStock` array with the planned changes, or None if none.

        The whole array is written, guarded by the document's `_rev` like every counter;
        a copy gets the same deltas on its own rows (a row missing there is added)."""
        changed: dict[str, dict[str, int]] = {}
        for name in (*deltas, *repairs):
            if name.startswith("@"):
                location, which = name[1:].rsplit("/", 1)
                changed.setdefault(location, {})[which] = 0
        if not changed:
            return None
        source = (variant if variant is not None else doc).get(LOCATION_FIELD)
        rows: list[object] = (
            [dict(r) if isinstance(r, dict) else r for r in source or []]
            if isinstance(source, list)
            else []
        )
        for location in changed:
            row = next(
                (
                    r
                    for r in rows
                    if isinstance(r, dict)
                    and isinstance(r.get("location"), dict)
                    and r["location"].get("_ref") == location
                ),
                None,
            )
            if row is None:
                row = {
                    "_key": _row_key(location),
                    "_type": "locationStock",
                    "location": {"_type": "reference", "_ref": location},
                    "stock": 0,
                    "reserved": 0,
                }
                rows.append(row)
            for which in ("stock", "reserved"):
                name = f"@{location}/{which}"
                if name in repairs:
                    row[which] = repairs[name]
                elif deltas.get(name):
                    row[which] = max(0, _read_counter(row.get(which)) + deltas[name])
        return rows

    def _own_path(self, cell: Cell) -> tuple[str, dict[str, object] | None]:
        if cell.index is None:
            return "", None
        variant = self.doc["variants"][cell.index]
        return _variant_prefix(variant, cell.index), variant

    def _copy_path(self, copy: Document, cell: Cell) -> tuple[str, dict[str, object] | None] | None:
        if cell.index is None:
            return "", None
        variants = copy.get("variants")
        if not isinstance(variants, list):
            return None
        for index, variant in enumerate(variants):
            if not isinstance(variant, dict):
                continue
            key = variant.get("_key")
            if cell.variant_key and key == cell.variant_key:
                return _variant_prefix(variant, index), variant
            if not cell.variant_key and _same_size(_str(variant.get("size")), cell.size):
                return _variant_prefix(variant, index), variant
        return None


def _row_key(location: str) -> str:
    """A `_key` for a new `locationStock` row, derived from the location (stable)."""
    return "loc-" + re.sub(r"[^A-Za-z0-9_-]", "-", location)[:60]


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _get(doc: Document, variant: dict[str, object] | None, field: str) -> object:
    return (variant if variant is not None else doc).get(field)


def _variant_prefix(variant: dict[str, object], index: int) -> str:
    key = variant.get("_key")
    if isinstance(key, str) and key:
        return f"variants[_key=={json.dumps(key)}]."
    # Without a `_key` the position is the only handle; the patch's ifRevisionID makes it
    # safe, since the array cannot have moved since it was read.
    return f"variants[{index}]."

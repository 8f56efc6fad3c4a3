"""Random interleavings of every operation, Studio edits and clock jumps (hypothesis).

The machine drives the engine against the embedded lake, together with an editor who
edits drafts and release versions and publishes them (Studio's legacy publish), edits stock
directly (liveEdit), sometimes publishes a stale copy, and a clock that jumps. Invariants:
- no counter (published, draft or version) is ever negative;
- reserved counters equal the active reservations' holds whenever no stale copy was
  published, and always right after reconcile. A copy is stale when it was taken from an
  older published document, or when the editor opened it while the engine's warm cache could
  still write that product without reading (design: a new draft does not move the published
  `_rev`, so no guard can see it; the Sanity webhook and reconcile repair such publishes);
- no reservation changes state twice, and no transition timestamp ever changes;
- the ledger explains every change of stock and reserved counters the service made, and
  stock on hand is always initial + ledger + the editor's own changes.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from collections.abc import Coroutine
from datetime import timedelta
from random import Random
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
)

from cms_client import mutations as m
from cms_client.ids import is_published, published_id
from cms_client.lake import Lake
from cms_client.store import Document
from schemas.operations import LineRequest
from schemas.reservation import StockReservation
from service.engine import EngineSettings, Inventory, InventoryError
from tests.engine import studio
from tests.engine.conftest import no_wait
from tests.engine.support import CATALOGUE, seed
from tests.support.clock import ManualClock

PRODUCTS = ("prod-railcam", "prod-tee", "prod-sleepers", "prod-kettle", "prod-lamp")
#: Sold beyond stock (issue 17): a backorder product and a pre-order size.
KETTLE = {
    "_id": "prod-kettle",
    "_type": "product",
    "title": "Kettle",
    "slug": {"current": "kettle"},
    "stockQuantity": 2,
    "inventoryPolicy": "backorder",
    "backorderLimit": 4,
}
KETTLE_LIMIT = 4
#: Stocked at two active locations and an inactive one (issue 17 B).
LOCATIONS = [
    {"_id": "loc-w", "_type": "stockLocation", "slug": {"current": "w"}, "priority": 1},
    {"_id": "loc-s", "_type": "stockLocation", "slug": {"current": "s"}, "priority": 2},
    {
        "_id": "loc-p",
        "_type": "stockLocation",
        "slug": {"current": "p"},
        "priority": 0,
        "active": False,
    },
]
LAMP = {
    "_id": "prod-lamp",
    "_type": "product",
    "title": "Lamp",
    "slug": {"current": "lamp"},
    "stockQuantity": 6,
    "inventoryPolicy": "backorder",
    "backorderLimit": 2,
    "locationStock": [
        {"_key": "w", "location": {"_type": "reference", "_ref": "loc-w"}, "stock": 2},
        {"_key": "s", "location": {"_type": "reference", "_ref": "loc-s"}, "stock": 3},
        {"_key": "p", "location": {"_type": "reference", "_ref": "loc-p"}, "stock": 1},
    ],
}
SLUGS = st.sampled_from(["w", "s", "p"])
#: Products the editor works on (the sold-out one rarely changes, so it is left out).
EDITED = st.sampled_from(["prod-railcam", "prod-tee"])
SESSIONS = st.sampled_from(["cs_a", "cs_b", "cs_c", "checkout #5/d"])
COPY_PREFIXES = st.sampled_from(["drafts.", "versions.autumn."])
SIMPLE = st.tuples(
    st.sampled_from(["railcam", "prod-railcam", "railways-and-sleepers"]),
    st.none(),
    st.integers(1, 3),
)
OWED = st.tuples(st.sampled_from(["kettle", "prod-kettle"]), st.none(), st.integers(1, 4))
PLACED = st.tuples(st.sampled_from(["lamp", "prod-lamp"]), st.none(), st.integers(1, 4))
SIZED = st.tuples(
    st.sampled_from(["halloween-tee", "prod-tee"]),
    st.sampled_from(["s", "M", "l"]),
    st.integers(1, 3),
)
LINES = st.lists(st.one_of(SIMPLE, SIZED, OWED, PLACED), min_size=1, max_size=3)
CELLS = st.sampled_from(
    [
        ("prod-railcam", None),
        ("prod-sleepers", None),
        ("prod-tee", "s"),
        ("prod-tee", "m"),
        ("prod-tee", "l"),
        ("prod-kettle", None),
    ]
)

#: Allowed status moves (a late payment may follow a release or an expiry).
TRANSITIONS = {
    ("active", "released"),
    ("active", "expired"),
    ("active", "committed"),
    ("released", "committed"),
    ("expired", "committed"),
    ("committed", "partially_refunded"),
    ("committed", "refunded"),
    ("partially_refunded", "refunded"),
}


def _closure(moves: set[tuple[str, str]]) -> set[tuple[str, str]]:
    reach = set(moves)
    while True:
        more = {(a, d) for a, b in reach for c, d in reach if b == c} - reach
        if not more:
            return reach
        reach |= more


#: Where a reservation can get within one step (a step may run several operations).
REACHABLE = _closure(TRANSITIONS) | {(s, s) for pair in TRANSITIONS for s in pair}
TIMESTAMPS = ("releasedAt", "expiredAt", "committedAt", "partiallyRefundedAt", "refundedAt")

Cell = tuple[str, str | None]

#: Figures the closing note reports: steps per example, operations run.
STATS: Counter[str] = Counter()


def cells_of(doc: Document) -> dict[Cell, tuple[int, int]]:
    """(product, size) -> (stock, reserved) of one product document."""
    variants = doc.get("variants")
    if not variants:
        return {
            (published_id(doc["_id"]), None): (
                doc.get("stockQuantity") or 0,
                doc.get("reservedQuantity") or 0,
            )
        }
    return {
        (published_id(doc["_id"]), v.get("size")): (
            v.get("stockQuantity") or 0,
            v.get("reservedQuantity") or 0,
        )
        for v in variants
    }


def owed_of(doc: Document) -> dict[Cell, tuple[int, int]]:
    """(product, size) -> (backordered, held beyond stock) of one product document."""
    rows = doc.get("variants") or [doc]
    return {
        (published_id(doc["_id"]), row.get("size") if row is not doc else None): (
            row.get("backorderedQuantity") or 0,
            row.get("backorderReservedQuantity") or 0,
        )
        for row in rows
    }


class InventoryMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.clock = ManualClock()
        self.lake = Lake(None, clock=self.clock)
        self.inventory = Inventory(
            self.lake,
            clock=self.clock,
            settings=EngineSettings(
                reconcile_settle=timedelta(0), max_attempts=60, serialize_writers=False
            ),
            sleep=no_wait,
            rng=Random(3),
        )
        self.run(seed(self.lake))
        self.run(seed(self.lake, KETTLE, *LOCATIONS, LAMP))
        self.initial_stock = {
            cell: sc[0] for doc in (*CATALOGUE, KETTLE, LAMP) for cell, sc in cells_of(doc).items()
        }
        self.editor_stock: dict[Cell, int] = defaultdict(int)
        #: Published versions of each product after recent engine calls (Studio's memory).
        self.seen: dict[str, deque[Document]] = defaultdict(lambda: deque(maxlen=4))
        self.drift_possible = False
        #: Copies opened while the warm cache could still serve their product.
        self.possibly_stale_copies: set[str] = set()
        self.reservations = self.read_reservations()
        STATS["examples"] += 1

    def teardown(self) -> None:
        self.run(self.lake.aclose())
        self.runner.close()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return self.runner.run(coro)

    # -- reading the lake ------------------------------------------------------------------

    def raw(self, groq: str) -> list[Document]:
        result: list[Document] = self.run(self.lake.query(groq, {}, perspective="raw"))
        return result

    def product_docs(self) -> list[Document]:
        return self.raw('*[_type == "product"]')

    def published_cells(self) -> dict[Cell, tuple[int, int]]:
        cells: dict[Cell, tuple[int, int]] = {}
        for doc in self.product_docs():
            if is_published(doc["_id"]):
                cells.update(cells_of(doc))
        return cells

    def read_reservations(self) -> dict[str, Document]:
        return {d["_id"]: d for d in self.raw('*[_type == "stockReservation"]')}

    def ledger_ids(self) -> set[str]:
        return {d["_id"] for d in self.raw('*[_type == "inventoryTransaction"]{_id}')}

    def ledger_sums(self, ids: set[str] | None = None) -> dict[Cell, tuple[int, int]]:
        sums: dict[Cell, list[int]] = defaultdict(lambda: [0, 0])
        for entry in self.raw('*[_type == "inventoryTransaction"]'):
            if ids is not None and entry["_id"] not in ids:
                continue
            cell = (entry["productId"], entry.get("size"))
            sums[cell][0] += entry["newStockQuantity"] - entry["previousStockQuantity"]
            sums[cell][1] += entry["newReservedQuantity"] - entry["previousReservedQuantity"]
        return {cell: (s[0], s[1]) for cell, s in sums.items()}

    # -- the engine, with the ledger checked around every call ----------------------------

    def engine(self, *calls: Coroutine[Any, Any, Any]) -> list[Any]:
        before, ledger_before = self.published_cells(), self.ledger_ids()
        owed_before = self.published_owed()
        places_before = self.lamp_places()
        names = [getattr(call, "__name__", "call") for call in calls]
        results = self.run(self._gather(calls))
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, InventoryError):
                raise result
            STATS[f"{name}: {result.code if isinstance(result, InventoryError) else 'ok'}"] += 1
        self.no_reservation_changes_state_twice()
        for doc in self.product_docs():
            if is_published(doc["_id"]):
                self.seen[doc["_id"]].append(doc)
        after = self.published_cells()
        explained = self.ledger_sums(self.ledger_ids() - ledger_before)
        for cell in set(before) | set(after):
            change = (
                after.get(cell, (0, 0))[0] - before.get(cell, (0, 0))[0],
                after.get(cell, (0, 0))[1] - before.get(cell, (0, 0))[1],
            )
            assert change == explained.get(cell, (0, 0)), (cell, change, explained)
        owed_after = self.published_owed()
        owed_explained = self.ledger_owed(self.ledger_ids() - ledger_before)
        for cell in set(owed_before) | set(owed_after):
            moved = owed_after.get(cell, 0) - owed_before.get(cell, 0)
            assert moved == owed_explained.get(cell, 0), (cell, moved, owed_explained)
        places_after = self.lamp_places()
        per_place = self.ledger_places(self.ledger_ids() - ledger_before)
        for place in set(places_before) | set(places_after):
            before_here = places_before.get(place, (0, 0))
            after_here = places_after.get(place, (0, 0))
            moved_here = (after_here[0] - before_here[0], after_here[1] - before_here[1])
            assert moved_here == per_place.get(place, (0, 0)), (place, moved_here, per_place)
        return list(results)

    def lamp_places(self) -> dict[str, tuple[int, int]]:
        (lamp,) = self.run(self.lake.get_documents(["prod-lamp"]))
        return {
            row["location"]["_ref"]: (row.get("stock") or 0, row.get("reserved") or 0)
            for row in lamp.get("locationStock") or []
        }

    def ledger_places(self, ids: set[str]) -> dict[str, tuple[int, int]]:
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for entry in self.raw('*[_type == "inventoryTransaction" && productId == "prod-lamp"]'):
            if entry["_id"] in ids:
                for change in entry.get("locationChanges") or []:
                    sums[change["location"]][0] += change.get("stockChange", 0)
                    sums[change["location"]][1] += change.get("reservedChange", 0)
        return {place: (pair[0], pair[1]) for place, pair in sums.items()}

    def published_owed(self) -> dict[Cell, int]:
        return {
            cell: pair[0]
            for doc in self.product_docs()
            if is_published(doc["_id"])
            for cell, pair in owed_of(doc).items()
        }

    def ledger_owed(self, ids: set[str]) -> dict[Cell, int]:
        sums: dict[Cell, int] = defaultdict(int)
        for entry in self.raw('*[_type == "inventoryTransaction"]'):
            if entry["_id"] in ids and entry.get("newBackorderedQuantity") is not None:
                cell = (entry["productId"], entry.get("size"))
                sums[cell] += entry["newBackorderedQuantity"] - entry["previousBackorderedQuantity"]
        return sums

    @staticmethod
    async def _gather(calls: tuple[Coroutine[Any, Any, Any], ...]) -> list[Any]:
        return list(await asyncio.gather(*calls, return_exceptions=True))

    def editor(self, mutations: list[dict[str, Any]] | None = None, action: Any = None) -> None:
        """An editor's change: whatever it does to published stock is the editor's own."""
        before = self.published_cells()
        if mutations:
            self.run(self.lake.mutate(mutations))
        if action is not None:
            self.run(action)
        after = self.published_cells()
        for cell, (stock, _) in after.items():
            self.editor_stock[cell] += stock - before.get(cell, (0, 0))[0]
        STATS["editor"] += 1

    # -- operations ------------------------------------------------------------------------

    def _lines(self, spec: list[tuple[str, str | None, int]]) -> list[LineRequest]:
        return [LineRequest(product_id=p, size=s, quantity=q) for p, s, q in spec]

    def _held_line(self, session: str, what: str) -> list[LineRequest] | None:
        """One unit of the session's first item that still has something to give."""
        saved = self.run(self.inventory.reservation(session))
        if saved is None:
            return None
        for item in saved.items:
            left = item.held if what == "held" else item.restorable
            if left > 0:
                return [
                    LineRequest(
                        product_id=item.product_id,
                        variant_key=item.variant_key,
                        size=item.size,
                        quantity=1,
                    )
                ]
        return None

    def _call(self, op: str, session: str, arg: Any) -> Coroutine[Any, Any, Any]:
        inv = self.inventory
        if op == "reserve":
            return inv.reserve(session, self._lines(arg), ttl=timedelta(minutes=30))
        if op == "release":
            return inv.release(session)
        if op == "commit":
            return inv.commit(session, f"pi_{arg}")
        if op == "restore":
            return inv.restore(session, reference=f"re_{arg}")
        return inv.expire()

    @rule(session=SESSIONS, lines=LINES, ttl=st.sampled_from([None, 1, 30, 600]))
    def reserve(
        self, session: str, lines: list[tuple[str, str | None, int]], ttl: int | None
    ) -> None:
        self.engine(
            self.inventory.reserve(
                session, self._lines(lines), ttl=None if ttl is None else timedelta(minutes=ttl)
            )
        )

    @rule(session=SESSIONS, lines=LINES, partial_refund=st.booleans())
    def checkout_paid_then_refunded(
        self, session: str, lines: list[tuple[str, str | None, int]], partial_refund: bool
    ) -> None:
        """A whole happy path in one step, so later steps find paid reservations."""
        self.engine(self.inventory.reserve(session, self._lines(lines)))
        self.engine(self.inventory.commit(session, "pi_checkout"))
        if partial_refund:
            self.engine(
                self.inventory.restore(
                    session, self._held_line(session, "restorable"), reference="re_partial"
                )
            )

    @rule(session=SESSIONS, partial=st.booleans())
    def release(self, session: str, partial: bool) -> None:
        lines = self._held_line(session, "held") if partial else None
        self.engine(self.inventory.release(session, lines))

    @rule(session=SESSIONS, ref=st.integers(1, 2))
    def commit(self, session: str, ref: int) -> None:
        self.engine(self.inventory.commit(session, f"pi_{ref}"))

    @rule(session=SESSIONS, ref=st.integers(1, 3), partial=st.booleans())
    def restore(self, session: str, ref: int, partial: bool) -> None:
        lines = self._held_line(session, "restorable") if partial else None
        self.engine(
            self.inventory.restore(
                session, lines, reference=f"re_{ref}", idempotency_keys=[f"evt_re_{ref}"]
            )
        )

    @rule(session=SESSIONS)
    def record_payment_intent(self, session: str) -> None:
        self.engine(self.inventory.record_payment_intent(session, f"pi_{session}"))

    @rule(
        cell=CELLS,
        delta=st.integers(-3, 4),
        absolute=st.booleans(),
        reason=st.sampled_from(["restock", "correction", "damage", "return", "initial"]),
    )
    def adjust(self, cell: Cell, delta: int, absolute: bool, reason: Any) -> None:
        product, size = cell
        kwargs: dict[str, Any] = {"set_to": abs(delta)} if absolute else {"delta": delta}
        self.engine(
            self.inventory.adjust(product, size=size, reason=reason, actor="staff", **kwargs)
        )

    @rule(place=SLUGS, delta=st.integers(-3, 4), absolute=st.booleans())
    def adjust_at_a_location(self, place: str, delta: int, absolute: bool) -> None:
        kwargs: dict[str, Any] = {"set_to": abs(delta)} if absolute else {"delta": delta}
        self.engine(
            self.inventory.adjust(
                "lamp", reason="correction", actor="staff", location=place, **kwargs
            )
        )

    @rule(source=SLUGS, to=SLUGS, quantity=st.integers(1, 3))
    def transfer(self, source: str, to: str, quantity: int) -> None:
        self.engine(self.inventory.transfer("lamp", source=source, target=to, quantity=quantity))

    @rule()
    def expire(self) -> None:
        self.engine(self.inventory.expire())

    @rule()
    def purge(self) -> None:
        self.engine(self.inventory.purge())

    @rule()
    def reconcile(self) -> None:
        (result,) = self.engine(self.inventory.reconcile())
        assert not result.failed and not result.settling
        self.assert_reserved_matches_reservations()
        self.assert_owed_matches_reservations()
        self.assert_locations_match_allocations()
        self.drift_possible = False

    @rule(
        ops=st.lists(
            st.tuples(
                st.sampled_from(["reserve", "release", "commit", "restore", "expire"]),
                SESSIONS,
                st.one_of(LINES, st.integers(1, 2)),
            ),
            min_size=2,
            max_size=5,
        )
    )
    def concurrent_burst(self, ops: list[tuple[str, str, Any]]) -> None:
        calls = []
        for op, session, arg in ops:
            if op == "reserve" and not isinstance(arg, list):
                arg = [("railcam", None, 1)]
            if op in ("commit", "restore") and isinstance(arg, list):
                arg = len(arg)
            calls.append(self._call(op, session, arg))
        self.engine(*calls)
        STATS["bursts"] += 1

    @rule(minutes=st.sampled_from([1, 3, 29, 35, 90, 60 * 24 * 8]))
    def clock_jumps(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    # -- the editor --------------------------------------------------------------------

    def copy_id(self, prefix: str, product: str) -> str:
        return prefix + product

    def exists(self, doc_id: str) -> bool:
        (doc,) = self.run(self.lake.get_documents([doc_id]))
        return doc is not None

    @rule(product=EDITED, prefix=COPY_PREFIXES)
    def editor_starts_a_copy(self, product: str, prefix: str) -> None:
        if self.exists(self.copy_id(prefix, product)):
            return
        (published,) = self.run(self.lake.get_documents([product]))
        body = {k: v for k, v in published.items() if k not in studio.SYSTEM_FIELDS}
        self.editor([m.create_or_replace(body | {"_id": self.copy_id(prefix, product)})])
        if self.inventory.executor.cache.serve([product], self.clock()) is not None:
            # A warm reserve or release may still skip its read and miss this copy's delta.
            self.possibly_stale_copies.add(self.copy_id(prefix, product))
            STATS["copies opened inside the warm window"] += 1

    @rule(product=EDITED, back=st.integers(1, 3))
    def editor_publishes_a_stale_copy(self, product: str, back: int) -> None:
        """Studio copied the document before service writes landed (the race of section 3.4
        of the reference notes) and the editor publishes that copy."""
        seen = self.seen[product]
        if len(seen) <= back or self.exists("drafts." + product):
            return
        self.editor(action=studio.start_draft(self.lake, product, from_doc=seen[-1 - back]))
        self.editor(action=studio.publish(self.lake, product))
        self.drift_possible = True
        STATS["stale publishes"] += 1

    @rule(cell=CELLS, value=st.integers(0, 9), prefix=COPY_PREFIXES)
    def editor_edits_stock_in_a_copy(self, cell: Cell, value: int, prefix: str) -> None:
        product, size = cell
        copy_id = self.copy_id(prefix, product)
        (copy,) = self.run(self.lake.get_documents([copy_id]))
        if copy is None:
            return
        if size is None:
            self.editor([m.patch(copy_id, set={"stockQuantity": value})])
        else:
            index = next(i for i, v in enumerate(copy["variants"]) if v.get("size") == size)
            self.editor([m.patch(copy_id, set={f"variants[{index}].stockQuantity": value})])

    @rule(product=EDITED)
    def editor_publishes(self, product: str) -> None:
        """Publish the draft, or else the release version, whichever exists."""
        ids = [product, "drafts." + product, "versions.autumn." + product]
        published, *copies = self.run(self.lake.get_documents(ids))
        copy = next((c for c in copies if c is not None), None)
        if copy is None:
            return
        copy_id = copy["_id"]
        body = {k: v for k, v in copy.items() if k not in studio.SYSTEM_FIELDS}
        self.editor(
            [
                m.revision_guard(product, published["_rev"]),
                m.create_or_replace(body | {"_id": product}),
                m.delete(copy_id),
            ]
        )
        if copy_id in self.possibly_stale_copies:
            self.possibly_stale_copies.discard(copy_id)
            self.drift_possible = True

    @rule(cell=CELLS, value=st.integers(0, 9))
    def editor_edits_published_stock(self, cell: Cell, value: int) -> None:
        """A liveEdit product: the editor patches the published document directly."""
        product, size = cell
        copies = self.raw(f'*[_id in ["drafts.{product}", "versions.autumn.{product}"]]{{_id}}')
        if copies:
            return
        if size is None:
            self.editor([m.patch(product, set={"stockQuantity": value})])
        else:
            (doc,) = self.run(self.lake.get_documents([product]))
            index = next(i for i, v in enumerate(doc["variants"]) if v.get("size") == size)
            self.editor([m.patch(product, set={f"variants[{index}].stockQuantity": value})])

    # -- invariants ----------------------------------------------------------------------

    def assert_reserved_matches_reservations(self) -> None:
        held: dict[Cell, int] = defaultdict(int)
        for doc in self.read_reservations().values():
            reservation = StockReservation.model_validate(doc)
            if reservation.status == "active":
                for item in reservation.items:
                    # Units held beyond stock are counted apart (backorderReservedQuantity).
                    held[(item.product_id, item.size)] += item.held - item.held_backordered
        for cell, (_, reserved) in self.published_cells().items():
            assert reserved == held.get(cell, 0), (cell, reserved, held.get(cell, 0))

    def assert_owed_matches_reservations(self) -> None:
        """Backorder counters equal what the reservations owe and hold beyond stock."""
        owed: dict[Cell, list[int]] = defaultdict(lambda: [0, 0])
        for doc in self.read_reservations().values():
            reservation = StockReservation.model_validate(doc)
            for item in reservation.items:
                owed[(item.product_id, item.size)][0] += item.open_backorder
                if reservation.status == "active":
                    owed[(item.product_id, item.size)][1] += item.held_backordered
        for doc in self.product_docs():
            if is_published(doc["_id"]):
                for cell, counters in owed_of(doc).items():
                    assert counters == tuple(owed.get(cell, (0, 0))), (cell, counters, owed)

    @invariant()
    def no_counter_is_ever_negative(self) -> None:
        STATS["steps"] += 1
        for doc in self.product_docs():
            for cell, (stock, reserved) in cells_of(doc).items():
                assert stock >= 0 and reserved >= 0, (doc["_id"], cell, stock, reserved)
            for cell, (owed, held) in owed_of(doc).items():
                assert owed >= 0 and held >= 0, (doc["_id"], cell, owed, held)

    def assert_locations_match_allocations(self) -> None:
        """Per location: reserved == what active holds allocated there."""
        held: Counter[str] = Counter()
        for doc in self.read_reservations().values():
            reservation = StockReservation.model_validate(doc)
            if reservation.status == "active":
                for item in reservation.items:
                    for allocation in item.allocations or []:
                        held[allocation.location] += allocation.quantity
        for place, (_, reserved) in self.lamp_places().items():
            assert reserved == held.get(place, 0), (place, reserved, held)

    @invariant()
    def lamp_totals_are_the_sums_over_its_locations_and_none_is_negative(self) -> None:
        (lamp,) = self.run(self.lake.get_documents(["prod-lamp"]))
        places = self.lamp_places()
        assert all(s >= 0 and r >= 0 for s, r in places.values()), places
        assert lamp.get("stockQuantity", 0) == sum(s for s, _ in places.values())
        assert lamp.get("reservedQuantity", 0) == sum(r for _, r in places.values())
        # The inactive pop-up never holds anything.
        assert places.get("loc-p", (0, 0))[1] == 0

    @invariant()
    def per_location_reserved_matches_the_allocations_of_active_holds(self) -> None:
        self.assert_locations_match_allocations()

    @invariant()
    def the_backorder_limit_bounds_every_unit_owed(self) -> None:
        (kettle,) = self.run(self.lake.get_documents(["prod-kettle"]))
        owed, held = owed_of(kettle)[("prod-kettle", None)]
        if not self.drift_possible:
            assert owed + held <= KETTLE_LIMIT, (owed, held)

    @invariant()
    def backorder_counters_match_the_reservations_unless_a_stale_copy_was_published(
        self,
    ) -> None:
        if not self.drift_possible:
            self.assert_owed_matches_reservations()

    @invariant()
    def reserved_counts_match_active_holds_unless_a_stale_copy_was_published(self) -> None:
        if not self.drift_possible:
            self.assert_reserved_matches_reservations()

    @invariant()
    def stock_is_initial_plus_ledger_plus_editor_changes(self) -> None:
        ledger = self.ledger_sums()
        for cell, (stock, _) in self.published_cells().items():
            expected = (
                self.initial_stock.get(cell, 0)
                + ledger.get(cell, (0, 0))[0]
                + self.editor_stock[cell]
            )
            assert stock == expected, (cell, stock, expected)

    @invariant()
    def no_reservation_changes_state_twice(self) -> None:
        now = self.read_reservations()
        for rid, before in self.reservations.items():
            after = now[rid]
            move = (before["status"], after["status"])
            assert move in REACHABLE, (rid, before, after)
            if move[0] != move[1]:
                STATS[f"{move[0]}->{move[1]}"] += 1
            for field in TIMESTAMPS:
                if before.get(field) is not None:
                    assert after.get(field) == before[field], (rid, field)
        for rid, after in now.items():
            if rid not in self.reservations:
                assert ("active", after["status"]) in REACHABLE
        self.reservations = now


TestInventoryMachine = InventoryMachine.TestCase
TestInventoryMachine.settings = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

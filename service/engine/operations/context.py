"""What every stock operation shares: one `Executor` (store, clock, settings, slug
resolver) and this instance's memory of which products each reservation holds.

The memory is only a hint that saves a read: a reservation's products never change once
it exists, and every operation still reads them fresh (or through the warm cache, which
the executor bounds) before it plans.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_camel

from cms_client.store import MutationResult
from schemas.ids import reservation_id
from schemas.operations import LineRequest
from schemas.reservation import StockReservation
from service.engine.errors import InvalidRequest
from service.engine.model.plan import Plan
from service.engine.unit_of_work.executor import Attempt, Executor
from service.engine.unit_of_work.idempotency import plan_keyed

ResultT = TypeVar("ResultT", bound=BaseModel)
RequestT = TypeVar("RequestT", bound=BaseModel)

#: How many reservations' products an instance remembers (oldest forgotten first).
HELD_PRODUCTS_REMEMBERED = 10_000


def build_request(model: type[RequestT], **fields: Any) -> RequestT:
    """Build a request payload; a value out of bounds is the caller's `InvalidRequest`."""
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        # Name the field as the JSON payloads do (camelCase).
        where = ".".join(to_camel(p) if isinstance(p, str) else str(p) for p in first["loc"])
        raise InvalidRequest(f"{where}: {first['msg']}", field=where) from None


class EngineContext:
    """The executor every operation runs through, and the hints operations share."""

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.store = executor.store
        self.settings = executor.settings
        self.resolver = executor.resolver
        self.held_products: OrderedDict[str, tuple[str, ...]] = OrderedDict()
        #: Told the session ids of overdue holds a reserve released, after its write
        #: committed (`Inventory.watch_reclaimed_holds`).
        self.holds_reclaimed: Callable[[list[str]], None] | None = None

    # -- planning helpers ----------------------------------------------------------------

    def keyed(
        self,
        att: Attempt,
        keys: Sequence[str],
        operation: str,
        request: BaseModel,
        result_type: type[ResultT],
        body: Callable[[Plan[ResultT]], object],
    ) -> Plan[ResultT]:
        """Plan `body` behind the idempotency records of `keys`."""
        return plan_keyed(
            Plan[ResultT](att.snapshot, now=att.now, token=att.token),
            keys,
            operation,
            request,
            result_type,
            body,
            retention=self.settings.idempotency_retention,
        )

    def check_line_count(self, lines: Sequence[LineRequest] | None) -> None:
        if lines is not None and len(lines) > self.settings.max_lines:
            raise InvalidRequest(f"at most {self.settings.max_lines} lines", field="lines")

    def group_key(self, refs: Iterable[str]) -> str:
        """Operations on the same products share a group: their writes would queue anyway."""
        return "|".join(sorted({self.resolver.cached(ref) or ref for ref in refs}))

    @staticmethod
    def group_products(key: str) -> list[str]:
        """The products (or names) a group key stands for."""
        return key.split("|")

    # -- which products a reservation holds -----------------------------------------------

    def hold_lock(self, rid: str) -> list[str]:
        """The reservation and the products it holds (when known) for the writer lock."""
        return [rid, *self.held_products.get(rid, ())]

    def known_products(self, rids: Iterable[str]) -> list[str]:
        return list(dict.fromkeys(p for rid in rids for p in self.held_products.get(rid, ())))

    def remember_products(self, rid: str, products: Sequence[str]) -> None:
        self.held_products[rid] = tuple(products)
        self.held_products.move_to_end(rid)
        while len(self.held_products) > HELD_PRODUCTS_REMEMBERED:
            self.held_products.popitem(last=False)

    def remember_holds(self, plan: Plan[Any], result: MutationResult) -> None:
        """`after_write` hook: learn the products of every reservation a write returned."""
        for doc_id, doc in result.documents().items():
            if doc.get("_type") == "stockReservation":
                self.remember_products(doc_id, tuple(doc.get("productIds") or ()))

    async def products_held_by(self, rid: str) -> tuple[str, ...]:
        """The products a reservation holds: known to this instance, or read once."""
        known = self.held_products.get(rid)
        if known is not None:
            return known
        (doc,) = await self.store.get_documents([rid])
        if doc is None:
            return ()
        products = tuple(p for p in doc.get("productIds") or [] if isinstance(p, str))
        self.remember_products(rid, products)
        return products

    async def read_reservation(
        self,
        att: Attempt,
        rid: str,
        *,
        also: Iterable[str] = (),
        creates: Iterable[str] = (),
    ) -> None:
        """Read a reservation with its products: one request when this instance knows which
        products it holds (the set never changes), two otherwise. `creates`: see
        `Attempt.read`."""
        await att.read([rid, *also, *self.held_products.get(rid, ())], creates=creates)
        doc = att.snapshot.get(rid)
        if doc is not None:
            products = tuple(
                dict.fromkeys(
                    item["productId"]
                    for item in doc.get("items") or []
                    if isinstance(item, dict) and isinstance(item.get("productId"), str)
                )
            )
            self.remember_products(rid, products)
            await att.read(products)

    async def reservation(self, session_id: str) -> StockReservation | None:
        """The session's reservation, read fresh (None when there is none)."""
        (doc,) = await self.store.get_documents([reservation_id(session_id)])
        return StockReservation.model_validate(doc) if doc else None

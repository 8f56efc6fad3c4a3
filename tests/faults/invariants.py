"""What must hold after any fault: the counters, the reservations and the ledger agree.

Read straight from the lake (no faults, no cache):

- every product and variant: stock = initial + the ledger's stock changes, reserved =
  initial + the ledger's reserved changes = the units its active reservations hold, both
  never below zero, and never more reserved than in stock (no oversell);
- every reservation: its own ledger entries (reference = its session) net to what it holds
  now and to minus what it sold; its refunds' entries to what it restored. An effect
  applied twice or lost shows up as a sum that does not match.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cms_client.lake import Lake
from schemas.ledger import InventoryTransaction
from schemas.reservation import StockReservation

Cell = tuple[str, str | None]  # product id, variant key (None: product-level stock)


def _cells(product: dict[str, Any]) -> dict[Cell, tuple[int, int]]:
    variants = product.get("variants")
    if not variants:
        return {
            (product["_id"], None): (
                product.get("stockQuantity", 0),
                product.get("reservedQuantity", 0),
            )
        }
    return {
        (product["_id"], v["_key"]): (v.get("stockQuantity", 0), v.get("reservedQuantity", 0))
        for v in variants
    }


async def _all(lake: Lake, doc_type: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = await lake.query(
        "*[_type == $t] | order(_id asc)", {"t": doc_type}, perspective="raw"
    )
    return docs


async def snapshot_counters(lake: Lake) -> dict[Cell, tuple[int, int]]:
    """Stock and reserved of every cell, e.g. as the scenario starts."""
    cells: dict[Cell, tuple[int, int]] = {}
    for product in await _all(lake, "product"):
        cells.update(_cells(product))
    return cells


async def check_invariants(lake: Lake, initial: dict[Cell, tuple[int, int]]) -> None:
    ledger = [
        InventoryTransaction.model_validate(d) for d in await _all(lake, "inventoryTransaction")
    ]
    reservations = [
        StockReservation.model_validate(d) for d in await _all(lake, "stockReservation")
    ]
    stock_moved: dict[Cell, int] = defaultdict(int)
    reserved_moved: dict[Cell, int] = defaultdict(int)
    for entry in ledger:
        cell = (entry.product_id, entry.variant_key)
        stock_moved[cell] += entry.stock_change
        reserved_moved[cell] += entry.reserved_change
    held: dict[Cell, int] = defaultdict(int)
    for reservation in reservations:
        if reservation.status == "active":
            for item in reservation.items:
                held[(item.product_id, item.variant_key)] += item.held
    now = await snapshot_counters(lake)
    for cell, (stock, reserved) in now.items():
        first_stock, first_reserved = initial.get(cell, (0, 0))
        assert stock == first_stock + stock_moved[cell], (cell, "stock vs ledger")
        assert reserved == first_reserved + reserved_moved[cell], (cell, "reserved vs ledger")
        assert reserved == held[cell], (cell, "reserved vs active reservations")
        assert stock >= 0 and reserved >= 0, cell
        assert reserved <= stock, (cell, "oversold")
    for reservation in reservations:
        _check_reservation(reservation, ledger)


def _check_reservation(reservation: StockReservation, ledger: list[InventoryTransaction]) -> None:
    own = [e for e in ledger if e.reference_id == reservation.session_id]
    refunds = {refund.reference for refund in reservation.refunds}
    restored = [e for e in ledger if e.reference_id in refunds]
    for item in reservation.items:
        cell = (item.product_id, item.variant_key)
        mine = [e for e in own if (e.product_id, e.variant_key) == cell]
        holding = item.held if reservation.status == "active" else 0
        assert sum(e.reserved_change for e in mine) == holding, (reservation.id, cell, "held")
        assert sum(e.stock_change for e in mine) == -item.committed_quantity, (
            reservation.id,
            cell,
            "sold",
        )
        back = [e for e in restored if (e.product_id, e.variant_key) == cell]
        assert sum(e.stock_change for e in back) == item.restored_quantity, (
            reservation.id,
            cell,
            "restored",
        )
        assert [e.entry_type for e in mine].count("reservation") == 1, (reservation.id, cell)

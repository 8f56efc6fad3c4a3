"""Use cases, one module per operation (reserve, release, commit, restore, refunds,
adjust, payment, stock import, status, sweep, reconcile, editor change, held refunds,
housekeeping, error logs): each runs pure planners through the executor or combines
operations. `context.py` holds what they share; `service.engine.inventory.Inventory` is
their door."""

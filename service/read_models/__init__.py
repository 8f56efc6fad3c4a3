"""Read models for staff and monitoring: ledger history, reservations, error logs, health.

Queries only (an import contract forbids the write path; resolving an error log is the
engine's `resolve_error_log`). Queries find what to show; nothing here decides a stock
change, so eventual consistency on Sanity is acceptable. Definitions such as "overdue" are
the engine's (`service.engine.is_overdue`, `OVERDUE_HOLD`), never restated here.
"""

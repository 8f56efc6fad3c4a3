"""Use cases: operations that run planners through the executor or combine operations
(sweep, status, held refunds, editor changes, housekeeping, resolving an error log)."""

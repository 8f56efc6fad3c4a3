"""The unit of work: one guarded transaction per operation (executor), group commit, the
warm cache, idempotency records, per-document locks, mutation pacing, name resolution."""

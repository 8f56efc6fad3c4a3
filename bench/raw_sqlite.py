"""The floor the lake is measured against: a guarded read-modify-write in plain Python SQLite.

Same durability as the lake (WAL, `synchronous=FULL`, one committed transaction per
operation) and the same work per operation as a lake guarded patch: read the document's
JSON and revision, parse it, add one to a nested counter, serialise it, and write it back
only if the revision is unchanged, with a new revision. No GROQ, no threads, no asyncio:
what SQLite and `json` alone cost.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any


class RawCounter:
    """One document in its own SQLite file, incremented by guarded read-modify-writes."""

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        self.synchronous = synchronous
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute(f"PRAGMA synchronous = {synchronous}")
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, rev TEXT, body TEXT)"
        )
        document = {"_id": "raw", "_type": "benchProduct", "stock": {"onHand": 0}}
        self.connection.execute(
            "INSERT OR REPLACE INTO documents VALUES ('raw', 'r0', ?)", (json.dumps(document),)
        )
        self.done = 0
        self.seconds = 0.0

    def run(self, n: int) -> None:
        """`n` increments, timed (adds to `seconds`)."""
        execute = self.connection.execute
        started = time.perf_counter()
        for _ in range(n):
            execute("BEGIN IMMEDIATE")
            rev, body = execute("SELECT rev, body FROM documents WHERE id = 'raw'").fetchone()
            current = json.loads(body)
            current["stock"]["onHand"] += 1
            new_rev = secrets.token_hex(11)
            current["_rev"] = new_rev
            updated = execute(
                "UPDATE documents SET rev = ?, body = ? WHERE id = 'raw' AND rev = ?",
                (new_rev, json.dumps(current), rev),
            ).rowcount
            execute("COMMIT")
            if updated != 1:
                raise AssertionError("the guard failed with a single writer")
        self.seconds += time.perf_counter() - started
        self.done += n

    def figures(self) -> dict[str, Any]:
        (final,) = self.connection.execute("SELECT body FROM documents WHERE id = 'raw'").fetchone()
        if json.loads(final)["stock"]["onHand"] != self.done:
            raise AssertionError("lost updates in the raw baseline")
        return {
            "operations": self.done,
            "synchronous": self.synchronous,
            "seconds": round(self.seconds, 4),
            "ops_per_second": round(self.done / self.seconds, 1) if self.seconds else None,
            "mean_ms": round(1000 * self.seconds / self.done, 3) if self.done else None,
        }

    def close(self) -> None:
        self.connection.close()


def run_raw(path: Path, n: int, *, synchronous: str = "FULL") -> dict[str, Any]:
    """`n` sequential guarded increments of one document in a fresh file at `path`."""
    counter = RawCounter(path, synchronous=synchronous)
    try:
        counter.run(n)
        return counter.figures()
    finally:
        counter.close()

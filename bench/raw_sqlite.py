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


def run_raw(path: Path, n: int, *, synchronous: str = "FULL") -> dict[str, Any]:
    """`n` sequential guarded increments of one document in a fresh file at `path`."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {synchronous}")
        connection.execute(
            "CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, rev TEXT, body TEXT)"
        )
        document = {"_id": "raw", "_type": "benchProduct", "stock": {"onHand": 0}}
        connection.execute(
            "INSERT OR REPLACE INTO documents VALUES ('raw', 'r0', ?)", (json.dumps(document),)
        )
        started = time.perf_counter()
        for _ in range(n):
            connection.execute("BEGIN IMMEDIATE")
            rev, body = connection.execute(
                "SELECT rev, body FROM documents WHERE id = 'raw'"
            ).fetchone()
            current = json.loads(body)
            current["stock"]["onHand"] += 1
            new_rev = secrets.token_hex(11)
            current["_rev"] = new_rev
            updated = connection.execute(
                "UPDATE documents SET rev = ?, body = ? WHERE id = 'raw' AND rev = ?",
                (new_rev, json.dumps(current), rev),
            ).rowcount
            connection.execute("COMMIT")
            if updated != 1:
                raise AssertionError("the guard failed with a single writer")
        seconds = time.perf_counter() - started
        (final,) = connection.execute("SELECT body FROM documents WHERE id = 'raw'").fetchone()
        if json.loads(final)["stock"]["onHand"] != n:
            raise AssertionError("lost updates in the raw baseline")
    finally:
        connection.close()
    return {
        "operations": n,
        "synchronous": synchronous,
        "seconds": round(seconds, 4),
        "ops_per_second": round(n / seconds, 1) if seconds else None,
        "mean_ms": round(1000 * seconds / n, 3) if n else None,
    }

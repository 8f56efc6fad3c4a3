"""The lake's SQLite file: schema, connection settings, and the few statements it runs.

One `LakeDatabase` wraps one connection and must stay on the thread that opened it. Several
processes may open the same file: WAL lets readers run beside the one writer, writers take
the lock up front (`BEGIN IMMEDIATE`) so a transaction never fails half-way on a lock, and
the busy timeout makes a writer wait its turn instead of failing.

Each committed transaction gets a row in `transactions`; its `seq` (strictly increasing:
rows are never deleted, so SQLite's next rowid is always above every earlier one; files
made before used AUTOINCREMENT, which does the same at the cost of a page per commit)
stamps every document it wrote, so a cached parse of a document is valid exactly while
the stored `seq` is unchanged, whichever process wrote it. The table also makes transaction
ids unique per dataset.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from cms_client.ids import published_id

#: How long a writer waits for another process's write lock before giving up.
BUSY_TIMEOUT_SECONDS = 30.0
#: SQLite's default limit on `?` parameters is 32766 on current builds; stay well under it.
_BATCH = 900
#: Ids `bodies` reads in one statement (so one consistent state without a transaction).
READ_BATCH = _BATCH
#: WAL pages between checkpoints (SQLite's default is 1000). A lake commit writes several
#: pages (document, index, transaction log), so the default would checkpoint — copy pages
#: and fsync the database file — every couple of hundred writes. Durability is the WAL's
#: fsync at each commit either way.
WAL_CHECKPOINT_PAGES = 4000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    seq INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL,
    id TEXT NOT NULL,
    committed_at TEXT NOT NULL,
    changes TEXT,
    UNIQUE (dataset, id)
);
CREATE TABLE IF NOT EXISTS documents (
    dataset TEXT NOT NULL,
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    published_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (dataset, id)
);
CREATE INDEX IF NOT EXISTS documents_by_type
    ON documents (dataset, type, id, published_id, seq);
CREATE INDEX IF NOT EXISTS documents_by_published_id
    ON documents (dataset, published_id);
"""
#: Added after the first release; files made before get it on open.
_CHANGES_COLUMN = "ALTER TABLE transactions ADD COLUMN changes TEXT"
#: The change log (what listeners read) keeps the documents of this many recent transactions;
#: older entries keep only their id (ids stay unique forever).
CHANGE_LOG_KEEP = 10_000


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def dumps(document: Any) -> str:
    # One encoder for every call: `json.dumps` with options builds a new one each time.
    return _ENCODER.encode(document)


def _batches(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _BATCH):
        yield values[start : start + _BATCH]


def _marks(count: int) -> str:
    return ",".join("?" * count)


class LakeDatabase:
    """One dataset of one lake file (or of a private in-memory database when path is None)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None,
        dataset: str,
        *,
        durable: bool = True,
        shared: bool = False,
        create_schema: bool = True,
        busy_timeout_s: float = BUSY_TIMEOUT_SECONDS,
    ) -> None:
        """`durable=False` (a scratch lake) skips the fsyncs; `shared=True` lets the connection
        move between threads (one at a time); `create_schema=False` trusts it exists."""
        self.dataset = dataset
        target = ":memory:" if path is None else os.fspath(path)
        self.connection = sqlite3.connect(
            target,
            timeout=busy_timeout_s,
            isolation_level=None,
            check_same_thread=not shared,
        )
        self.connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        if path is not None:
            self.connection.execute("PRAGMA journal_mode = WAL")
            self.connection.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        # FULL: a transaction reported as committed survives a power cut, not just a crash.
        self.connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'OFF'}")
        self.connection.execute("PRAGMA foreign_keys = OFF")
        if create_schema:
            with self.write():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self.connection.execute(statement)
                columns = {
                    row[1] for row in self.connection.execute("PRAGMA table_info(transactions)")
                }
                if "changes" not in columns:
                    self.connection.execute(_CHANGES_COLUMN)

    def close(self) -> None:
        self.connection.close()

    # Transactions ---------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[None]:
        """A write transaction holding the file's write lock from the start."""
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.connection.execute("COMMIT")
        except BaseException:
            # Also after a failed COMMIT, so the connection is usable for the next one.
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
            raise

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every statement inside sees the same committed state."""
        self.connection.execute("BEGIN")
        try:
            yield
        finally:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")

    # Reads -------------------------------------------------------------------------------

    def bodies(self, ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """`id -> (seq, body)` for the ids that exist."""
        if len(ids) == 1:
            # The common case (a guarded write reads one document twice): one short statement.
            doc_id = ids[0]
            row = self.connection.execute(
                "SELECT seq, body FROM documents WHERE dataset = ? AND id = ?",
                (self.dataset, doc_id),
            ).fetchone()
            return {} if row is None else {doc_id: (row[0], row[1])}
        found: dict[str, tuple[int, str]] = {}
        for batch in _batches(list(dict.fromkeys(ids))):
            rows = self.connection.execute(
                "SELECT id, seq, body FROM documents WHERE dataset = ? "
                f"AND id IN ({_marks(len(batch))})",
                (self.dataset, *batch),
            )
            for doc_id, seq, body in rows:
                found[doc_id] = (seq, body)
        return found

    def variant_ids(self, published_ids: Collection[str]) -> list[str]:
        """Ids of every stored document (published, draft, version) of these published ids."""
        found: list[str] = []
        for batch in _batches(sorted(set(published_ids))):
            rows = self.connection.execute(
                "SELECT id FROM documents WHERE dataset = ? "
                f"AND published_id IN ({_marks(len(batch))})",
                (self.dataset, *batch),
            )
            found.extend(doc_id for (doc_id,) in rows)
        return sorted(found)

    def listing(self, type_names: Collection[str] | None) -> list[tuple[str, str, int]]:
        """`(id, published_id, seq)` of the documents of these types (all when None), by id."""
        if type_names is None:
            return list(
                self.connection.execute(
                    "SELECT id, published_id, seq FROM documents WHERE dataset = ? ORDER BY id",
                    (self.dataset,),
                )
            )
        names = sorted(set(type_names))
        if not names:
            return []
        rows: list[tuple[str, str, int]] = []
        for batch in _batches(names):
            rows.extend(
                self.connection.execute(
                    "SELECT id, published_id, seq FROM documents WHERE dataset = ? "
                    f"AND type IN ({_marks(len(batch))})",
                    (self.dataset, *batch),
                )
            )
        rows.sort()
        return rows

    def all_bodies(self) -> Iterator[str]:
        """Every document's JSON text, by id (for export)."""
        rows = self.connection.execute(
            "SELECT body FROM documents WHERE dataset = ? ORDER BY id", (self.dataset,)
        )
        for (body,) in rows:
            yield body

    def page_after(self, after: str, size: int) -> list[tuple[str, str]]:
        """`(id, body)` of up to `size` documents with ids after `after`, by id."""
        return list(
            self.connection.execute(
                "SELECT id, body FROM documents WHERE dataset = ? AND id > ? ORDER BY id LIMIT ?",
                (self.dataset, after, size),
            )
        )

    # Writes (inside `write()`) -------------------------------------------------------------

    def transaction_exists(self, transaction_id: str) -> bool:
        row = self.connection.execute(
            "SELECT 1 FROM transactions WHERE dataset = ? AND id = ?",
            (self.dataset, transaction_id),
        ).fetchone()
        return row is not None

    def record_transaction(
        self, transaction_id: str, committed_at: str, changes: str | None = None
    ) -> int:
        """Register a committed transaction; returns its `seq` for the documents it writes.

        `changes` is the JSON the change feed reads (`feed.py`): the transaction's mutations
        and each written document before and after.
        """
        cursor = self.connection.execute(
            "INSERT INTO transactions (dataset, id, committed_at, changes) VALUES (?, ?, ?, ?)",
            (self.dataset, transaction_id, committed_at, changes),
        )
        assert cursor.lastrowid is not None
        seq = cursor.lastrowid
        if changes is not None and seq % 1000 == 0:
            # Every thousandth transaction trims the log, so it stays small without a job.
            self.connection.execute(
                "UPDATE transactions SET changes = NULL WHERE seq <= ? AND changes IS NOT NULL",
                (seq - CHANGE_LOG_KEEP,),
            )
        return seq

    def last_seq(self) -> int:
        row = self.connection.execute("SELECT max(seq) FROM transactions").fetchone()
        return int(row[0] or 0)

    def changes_since(self, seq: int, limit: int = 500) -> list[tuple[int, str, str, str]]:
        """`(seq, transaction id, committed_at, changes)` of this dataset's logged
        transactions after `seq`, oldest first."""
        return list(
            self.connection.execute(
                "SELECT seq, id, committed_at, changes FROM transactions "
                "WHERE seq > ? AND dataset = ? AND changes IS NOT NULL ORDER BY seq LIMIT ?",
                (seq, self.dataset, limit),
            )
        )

    def put(
        self,
        document: dict[str, Any],
        seq: int,
        *,
        replace: bool = True,
        body: str | None = None,
    ) -> None:
        """Store `document` (`body`: its `dumps`, when the caller has it already); without
        `replace` an existing id raises `sqlite3.IntegrityError`."""
        doc_id = document["_id"]
        upsert = (
            " ON CONFLICT (dataset, id) DO UPDATE SET type = excluded.type, "
            "published_id = excluded.published_id, seq = excluded.seq, body = excluded.body"
        )
        self.connection.execute(
            "INSERT INTO documents (dataset, id, type, published_id, seq, body) "
            "VALUES (?, ?, ?, ?, ?, ?)" + (upsert if replace else ""),
            (
                self.dataset,
                doc_id,
                document["_type"],
                published_id(doc_id),
                seq,
                body if body is not None else dumps(document),
            ),
        )

    def rewrite(self, document: dict[str, Any], seq: int, body: str) -> None:
        """Store a new version of a document already stored under the same `_type`: the
        upsert in `put` rewrites every column, so every index entry of the row; this
        touches only what changed."""
        self.connection.execute(
            "UPDATE documents SET seq = ?, body = ? WHERE dataset = ? AND id = ?",
            (seq, body, self.dataset, document["_id"]),
        )

    def remove(self, doc_id: str) -> None:
        self.connection.execute(
            "DELETE FROM documents WHERE dataset = ? AND id = ?", (self.dataset, doc_id)
        )

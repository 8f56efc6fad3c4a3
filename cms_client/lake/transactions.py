"""One mutate call as one transaction: apply the mutations in order, then write or refuse.

Mutations apply in array order to a working copy of the documents they touch, so each sees
the effects of those before it (a query-selected mutation included). The first failure
refuses the whole transaction and nothing is written. Every document a mutation touched
(created, replaced, patched, even by a patch that changed nothing, as Sanity does) is
written with the transaction's revision as `_rev` and the transaction time as `_updatedAt`.

`ifRevisionID` is compared with the revision the document had when the transaction began:
the new revision only exists once the transaction commits, so two guarded patches of one
document in one transaction both carry the revision their caller read.

Choices where Sanity's behaviour is unconfirmed (reference notes, section 9):
- `createIfNotExists` of an existing document reports operation "none" and writes nothing.
- `delete` of a missing id succeeds and reports operation "none"; "delete" means it existed.
- A mutation selected by query sees the whole dataset (the raw perspective).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cms_client import groq
from cms_client.clock import format_timestamp
from cms_client.errors import BadRequest
from cms_client.lake.documents import (
    DocumentProblem,
    check_id,
    check_type,
    id_for_create,
    new_document,
    new_revision,
)
from cms_client.lake.error_bodies import (
    bad_mutation,
    document_exists,
    document_missing,
    revision_conflict,
    transaction_id_used,
)
from cms_client.lake.limits import (
    MAX_BODY_NESTING,
    LimitExceeded,
    check_document,
    check_size,
    check_value,
)
from cms_client.lake.patches import OPERATION_ORDER, PatchProblem, apply_patch
from cms_client.lake.sources import DocumentCache, TransactionDocuments
from cms_client.lake.storage import LakeDatabase, dumps
from cms_client.store import Document, MutationResult, MutationResultItem, Operation

#: Sanity's limit for a delete by query; larger sets must be split across transactions.
MAX_DELETE_BY_QUERY = 10_000
MAX_TRANSACTION_ID_LENGTH = 128
#: The item error type of a document past Sanity's limits (the lake's choice of name).
LIMIT_ERROR = "documentLimitExceededError"


class _Working:
    """The documents as this transaction has left them so far."""

    def __init__(self, db: LakeDatabase) -> None:
        self.db = db
        #: id -> document (None: absent). Holds every id read or written.
        self.docs: dict[str, Document | None] = {}
        #: id -> the stored JSON before the transaction (None: absent), for the change log.
        self.before: dict[str, str | None] = {}
        #: Ids written by the transaction, in first-touch order, with the indexes of the
        #: mutations that wrote them.
        self.touched: dict[str, list[int]] = {}
        #: The index of the mutation being applied.
        self.index = 0
        #: id -> the stored `_type` before the transaction, for the ids that existed.
        self.before_types: dict[str, Any] = {}

    def get(self, doc_id: str) -> Document | None:
        if doc_id not in self.docs:
            found = self.db.bodies([doc_id]).get(doc_id)
            self.before[doc_id] = found[1] if found else None
            document = json.loads(found[1]) if found else None
            self.docs[doc_id] = document
            if document is not None:
                self.before_types[doc_id] = document.get("_type")
        return self.docs[doc_id]

    def put(self, doc_id: str, document: Document | None) -> None:
        self.docs[doc_id] = document
        indexes = self.touched.setdefault(doc_id, [])
        if not indexes or indexes[-1] != self.index:
            indexes.append(self.index)

    def touched_documents(self) -> dict[str, Document | None]:
        return {doc_id: self.docs[doc_id] for doc_id in self.touched}


class _Transaction:
    def __init__(
        self, db: LakeDatabase, cache: DocumentCache, revision: str, now: datetime
    ) -> None:
        self.db = db
        self.cache = cache
        self.revision = revision
        self.now = now
        self.timestamp = format_timestamp(now)
        self.working = _Working(db)
        self.results: list[tuple[str, Operation]] = []

    def apply(self, index: int, mutation: Any) -> None:
        if not isinstance(mutation, Mapping) or len(mutation) != 1:
            raise bad_mutation(
                index, "invalidMutationError", "A mutation must be an object with one key"
            )
        ((kind, spec),) = mutation.items()
        self.working.index = index
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise bad_mutation(index, "invalidMutationError", f"Unknown mutation type {kind!r}")
        try:
            # Also proves the mutation is JSON (no NaN, no other Python objects).
            check_value(spec, max_nesting=MAX_BODY_NESTING, what=kind)
        except LimitExceeded as exc:
            if exc.not_json:
                raise bad_mutation(
                    index, "invalidMutationError", f"Mutation is not valid JSON: {exc.description}"
                ) from None
            raise bad_mutation(index, LIMIT_ERROR, exc.description) from None
        try:
            handler(self, index, spec)
        except DocumentProblem as exc:
            raise bad_mutation(index, exc.kind, exc.description, **exc.fields) from exc
        except PatchProblem as exc:
            raise bad_mutation(index, exc.kind, exc.description) from exc

    # Create-type mutations ------------------------------------------------------------

    def _document(self, body: Any, doc_id: str, existing: Document | None) -> Document:
        created_at = None
        # Replacing with another _type is a delete plus a create in Sanity: a new creation.
        if (
            existing is not None
            and isinstance(body, dict)
            and existing.get("_type") == body.get("_type")
        ):
            created_at = existing.get("_createdAt")
        return new_document(
            body,
            doc_id=doc_id,
            created_at=created_at or self.timestamp,
            # The new revision is stamped at commit; until then guards see the old one.
            revision=existing["_rev"] if existing is not None else self.revision,
            updated_at=self.timestamp,
        )

    def create(self, index: int, body: Any) -> None:
        if not isinstance(body, dict):
            raise DocumentProblem("A document must be a JSON object", kind="invalidMutationError")
        doc_id = id_for_create(body)
        check_type(body)
        if self.working.get(doc_id) is not None:
            raise document_exists(index, doc_id)
        self.working.put(doc_id, self._document(body, doc_id, None))
        self.results.append((doc_id, "create"))

    def create_if_not_exists(self, index: int, body: Any) -> None:
        if not isinstance(body, dict):
            raise DocumentProblem("A document must be a JSON object", kind="invalidMutationError")
        doc_id = check_id(body.get("_id"))
        check_type(body)
        if self.working.get(doc_id) is not None:
            self.results.append((doc_id, "none"))
            return
        self.working.put(doc_id, self._document(body, doc_id, None))
        self.results.append((doc_id, "create"))

    def create_or_replace(self, index: int, body: Any) -> None:
        if not isinstance(body, dict):
            raise DocumentProblem("A document must be a JSON object", kind="invalidMutationError")
        doc_id = check_id(body.get("_id"))
        check_type(body)
        existing = self.working.get(doc_id)
        self.working.put(doc_id, self._document(body, doc_id, existing))
        self.results.append((doc_id, "update" if existing is not None else "create"))

    # Delete and patch -------------------------------------------------------------------

    def delete(self, index: int, spec: Any) -> None:
        for doc_id in self._targets(index, spec, "delete", allowed={"id", "query", "params"}):
            if self.working.get(doc_id) is None:
                self.results.append((doc_id, "none"))
            else:
                self.working.put(doc_id, None)
                self.results.append((doc_id, "delete"))

    def patch(self, index: int, spec: Any) -> None:
        allowed = {"id", "query", "params", "ifRevisionID", *OPERATION_ORDER}
        if not isinstance(spec, dict):
            raise bad_mutation(index, "invalidMutationError", "'patch' takes an object")
        expected = spec.get("ifRevisionID") if isinstance(spec, dict) else None
        if expected is not None and not isinstance(expected, str):
            raise bad_mutation(index, "invalidPatchError", "'ifRevisionID' must be a string")
        operations = {k: v for k, v in spec.items() if k in OPERATION_ORDER}
        for doc_id in self._targets(index, spec, "patch", allowed=allowed):
            document = self.working.get(doc_id)
            if document is None:
                raise document_missing(index, doc_id)
            current = document.get("_rev", "")
            if expected is not None and current != expected:
                raise revision_conflict(index, doc_id, current, expected)
            apply_patch(document, operations)
            check_type(document)
            self.working.put(doc_id, document)
            self.results.append((doc_id, "update"))

    def _targets(self, index: int, spec: Any, kind: str, *, allowed: set[str]) -> list[str]:
        if not isinstance(spec, dict):
            raise bad_mutation(index, "invalidMutationError", f"'{kind}' takes an object")
        unknown = sorted(set(spec) - allowed)
        if unknown:
            raise bad_mutation(
                index, "invalidMutationError", f"Unknown key {unknown[0]!r} in '{kind}'"
            )
        if ("id" in spec) == ("query" in spec):
            raise bad_mutation(
                index, "invalidMutationError", f"'{kind}' needs exactly one of 'id' or 'query'"
            )
        if "id" in spec:
            if "params" in spec:
                raise bad_mutation(index, "invalidMutationError", "'params' only goes with 'query'")
            return [check_id(spec["id"])]
        ids = self._select(index, spec["query"], spec.get("params", {}))
        if kind == "delete" and len(ids) > MAX_DELETE_BY_QUERY:
            raise bad_mutation(
                index,
                "invalidMutationError",
                f"A delete by query may touch at most {MAX_DELETE_BY_QUERY} documents "
                f"(this one selects {len(ids)})",
            )
        return ids

    def _select(self, index: int, query: Any, params: Any) -> list[str]:
        if not isinstance(query, str) or not query.strip():
            raise bad_mutation(index, "invalidMutationError", "'query' must be a GROQ string")
        if not isinstance(params, dict):
            raise bad_mutation(index, "invalidMutationError", "'params' must be an object")
        source = TransactionDocuments(self.db, self.cache, self.working.docs)
        result = groq.evaluate(groq.parse(query), source, params, now=self.now)
        selected = result if isinstance(result, list) else [] if result is None else [result]
        ids: list[str] = []
        for item in selected:
            doc_id = item.get("_id") if isinstance(item, dict) else None
            if not isinstance(doc_id, str):
                raise bad_mutation(
                    index,
                    "invalidMutationError",
                    "A mutation's query must select documents (objects with an _id)",
                )
            ids.append(doc_id)
        return list(dict.fromkeys(ids))

    # Outcome ------------------------------------------------------------------------------

    def stamp(self) -> dict[str, Document | None]:
        """The written documents with the transaction's revision and time."""
        written = self.working.touched_documents()
        for document in written.values():
            if document is not None:
                document["_rev"] = self.revision
                document["_updatedAt"] = self.timestamp
        return written

    def result(self, *, return_documents: bool) -> MutationResult:
        items = []
        for doc_id, operation in self.results:
            document = self.working.docs.get(doc_id) if return_documents else None
            copy = json.loads(dumps(document)) if document is not None else None
            items.append(MutationResultItem(id=doc_id, operation=operation, document=copy))
        return MutationResult(transaction_id=self.revision, results=items)


_HANDLERS: dict[str, Callable[[_Transaction, int, Any], None]] = {
    "create": _Transaction.create,
    "createIfNotExists": _Transaction.create_if_not_exists,
    "createOrReplace": _Transaction.create_or_replace,
    "delete": _Transaction.delete,
    "patch": _Transaction.patch,
}


def check_transaction_id(transaction_id: Any) -> str:
    if (
        not isinstance(transaction_id, str)
        or not transaction_id
        or len(transaction_id) > MAX_TRANSACTION_ID_LENGTH
        or not transaction_id.isprintable()
        or any(char.isspace() for char in transaction_id)
    ):
        raise BadRequest(
            f"Invalid transaction ID {transaction_id!r}: "
            f"1-{MAX_TRANSACTION_ID_LENGTH} printable characters without spaces",
            body={
                "error": {
                    "type": "httpBadRequest",
                    "description": f"Invalid transaction ID {json.dumps(transaction_id)}",
                }
            },
        )
    return transaction_id


@dataclass(frozen=True)
class TransactionRequest:
    """One mutate call, as the writer thread receives it."""

    mutations: Sequence[Any]
    now: datetime
    transaction_id: str | None = None
    return_documents: bool = True


def run_transaction(
    db: LakeDatabase,
    cache: DocumentCache,
    mutations: Sequence[Any],
    *,
    now: datetime,
    transaction_id: str | None = None,
    return_documents: bool = True,
    dry_run: bool = False,
) -> MutationResult:
    """Apply `mutations` atomically (or, with `dry_run`, only compute the outcome)."""
    request = TransactionRequest(mutations, now, transaction_id, return_documents)
    if dry_run:
        with db.snapshot():
            result, _written = _apply(db, cache, request, dry_run=True)
        return result
    (outcome,) = run_transactions(db, cache, [request])
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def run_transactions(
    db: LakeDatabase, cache: DocumentCache, requests: Sequence[TransactionRequest]
) -> list[MutationResult | Exception]:
    """Commit several mutate calls with one SQLite commit (group commit): one fsync makes
    all of them durable, and none is answered before it. Each runs in call order under its
    own savepoint, sees the ones before it, and fails alone (a refused transaction writes
    nothing); a database error fails them all, since none was committed."""
    outcomes: list[MutationResult | Exception] = []
    committed: list[tuple[int, dict[str, Document | None]]] = []
    connection = db.connection
    try:
        with db.write():
            if len(requests) == 1:
                # Alone, a refusal rolls the whole transaction back: no savepoint needed.
                result, applied = _apply(db, cache, requests[0], dry_run=False)
                outcomes.append(result)
                committed.append(applied)
                requests = []
            for request in requests:
                connection.execute("SAVEPOINT lake_transaction")
                try:
                    result, applied = _apply(db, cache, request, dry_run=False)
                except sqlite3.Error:
                    raise
                except Exception as exc:  # the caller's refusal, answered to that caller
                    connection.execute("ROLLBACK TO lake_transaction")
                    connection.execute("RELEASE lake_transaction")
                    outcomes.append(exc)
                    continue
                connection.execute("RELEASE lake_transaction")
                outcomes.append(result)
                committed.append(applied)
    except sqlite3.Error:
        # Nothing was committed; what the batch's reads cached from its own uncommitted
        # writes must go (their seqs will be used again).
        cache.clear()
        raise
    except Exception as exc:  # a lone transaction refused: rolled back, answered to its caller
        if len(outcomes) or len(committed):
            raise
        return [exc]
    # Only after the commit: a rolled-back write must never reach the cache.
    for seq, documents in committed:
        for doc_id, document in documents.items():
            if document is None:
                cache.forget(doc_id)
            else:
                cache.store(doc_id, seq, document)
    return outcomes


def _apply(
    db: LakeDatabase, cache: DocumentCache, request: TransactionRequest, *, dry_run: bool
) -> tuple[MutationResult, tuple[int, dict[str, Document | None]]]:
    mutations = request.mutations
    if isinstance(mutations, str | bytes | Mapping):
        raise BadRequest(
            "mutations must be an array",
            body={"error": {"type": "httpBadRequest", "description": "mutations must be an array"}},
        )
    transaction_id = request.transaction_id
    chosen = check_transaction_id(transaction_id) if transaction_id is not None else None
    # A random revision is 131 bits: checking it for a repeat would cost a statement per
    # write for nothing (the unique index still guards it). A chosen id is checked.
    revision = chosen or new_revision()
    if chosen is not None and db.transaction_exists(chosen):
        raise transaction_id_used(chosen)
    transaction = _Transaction(db, cache, revision, request.now)
    for index, mutation in enumerate(mutations):
        transaction.apply(index, mutation)
    written = transaction.stamp()
    bodies = _checked_bodies(written, transaction.working)
    result = transaction.result(return_documents=request.return_documents)
    if dry_run:
        return result, (0, {})
    changes = _change_log(mutations, transaction.working, bodies)
    seq = db.record_transaction(revision, transaction.timestamp, changes)
    before = transaction.working.before_types
    for doc_id, document in written.items():
        body = bodies[doc_id]  # None exactly when the document was deleted
        if document is None or body is None:
            db.remove(doc_id)
        elif before.get(doc_id) == document["_type"]:
            db.rewrite(document, seq, body=body)
        else:
            db.put(document, seq, body=body)
    return result, (seq, written)


def _change_log(
    mutations: Sequence[Any], working: _Working, bodies: Mapping[str, str | None]
) -> str:
    """The transaction as the change feed reads it (`feed.py`), built from the JSON texts
    already at hand rather than serialising each document again."""
    entries = [
        "".join(
            (
                '{"id":',
                dumps(doc_id),
                ',"mutations":',
                dumps(working.touched[doc_id]),
                ',"previous":',
                working.before.get(doc_id) or "null",
                ',"result":',
                body or "null",
                "}",
            )
        )
        for doc_id, body in bodies.items()
    ]
    return "".join(
        ('{"mutations":', dumps(list(mutations)), ',"documents":[', ",".join(entries), "]}")
    )


def _checked_bodies(
    written: Mapping[str, Document | None], working: _Working
) -> dict[str, str | None]:
    """The JSON text of each written document, refusing any past Sanity's limits (named at
    the last mutation that wrote it)."""
    bodies: dict[str, str | None] = {}
    for doc_id, document in written.items():
        if document is None:
            bodies[doc_id] = None
            continue
        try:
            check_document(document)
            body = dumps(document)
            check_size(body, doc_id)
        except LimitExceeded as exc:
            index = working.touched[doc_id][-1]
            raise bad_mutation(
                index, LIMIT_ERROR, f"Document {doc_id!r}: {exc.description}", id=doc_id
            ) from None
        bodies[doc_id] = body
    return bodies

"""Document rules the Content Lake enforces: ids, `_type`, and the server-set system fields.

The lake owns `_rev` (one new revision per transaction, shared by every document the
transaction writes) and `_updatedAt`; whatever a client sends for them is replaced. A
client-supplied `_createdAt` is kept (Studio's publish relies on that); otherwise a created
document gets the transaction time and a replaced one keeps its original creation time.
"""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

from cms_client.ids import id_problem

REVISION_LENGTH = 22
_BASE62 = string.digits + string.ascii_letters
_TO_BASE62 = bytes(ord(_BASE62[i % 62]) for i in range(248)) + bytes(8)
_UNUSED = bytes(range(248, 256))


class DocumentProblem(Exception):
    """A document the lake refuses; the transaction turns it into a `BadRequest`."""

    def __init__(self, description: str, *, kind: str, **fields: Any) -> None:
        super().__init__(description)
        self.description = description
        self.kind = kind
        self.fields = fields


def random_token(length: int = REVISION_LENGTH) -> str:
    """A random base62 string, the shape of Sanity's revisions and transaction ids."""
    # One draw of random bytes mapped to base62 in C: many times cheaper than a
    # `secrets.choice` per character. Bytes 248-255 are dropped (248 = 4 x 62, so the map
    # is uniform); a draw of twice the length leaves enough after that.
    while True:
        token = secrets.token_bytes(2 * length).translate(_TO_BASE62, _UNUSED)
        if len(token) >= length:
            return token[:length].decode("ascii")


def new_revision() -> str:
    return random_token()


def check_id(doc_id: Any) -> str:
    problem = id_problem(doc_id)
    if problem is not None:
        raise DocumentProblem(
            f"Malformed document ID: {json.dumps(doc_id)} ({problem})",
            kind="invalidDocumentIdError",
            id=doc_id,
        )
    assert isinstance(doc_id, str)
    return doc_id


def id_for_create(body: dict[str, Any]) -> str:
    """The id a create-type mutation writes: as given, random, or random under a prefix."""
    given = body.get("_id")
    if given is None or given == "":
        return random_token()
    if isinstance(given, str) and given.endswith(".") and not given.endswith(".."):
        return check_id(given + random_token())
    return check_id(given)


def check_type(document: dict[str, Any]) -> None:
    doc_type = document.get("_type")
    if not isinstance(doc_type, str) or not doc_type:
        raise DocumentProblem(
            'Document is missing required field "_type" (a non-empty string)',
            kind="missingDocumentTypeError",
            id=document.get("_id"),
        )


def new_document(
    body: Any, *, doc_id: str, created_at: str, revision: str, updated_at: str
) -> dict[str, Any]:
    """A stored document from a create-type mutation's body (a deep copy, system fields set)."""
    if not isinstance(body, dict):
        raise DocumentProblem("A document must be a JSON object", kind="invalidMutationError")
    document: dict[str, Any] = json.loads(json.dumps(body))
    document["_id"] = doc_id
    check_type(document)
    if not isinstance(document.get("_createdAt"), str) or not document["_createdAt"]:
        document["_createdAt"] = created_at
    document["_rev"] = revision
    document["_updatedAt"] = updated_at
    return document

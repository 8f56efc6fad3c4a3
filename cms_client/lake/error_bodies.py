"""The lake's refusals as typed errors carrying Sanity's exact error bodies.

Every error the lake raises from `mutate` has `body` set to what Sanity's `/data/mutate`
answers, so the HTTP server renders `error.body` unchanged (409 for `MutationError` and its
subclasses, 400 for `BadRequest`). `cms_client.error_bodies` is the one place shapes are built.

Bodies Sanity documents or was seen sending (reference notes 2.2 and 2.4):
- `documentRevisionIDDoesNotMatchError` with `currentRevisionID` and `expectedRevisionID`
  (the document id only inside the description);
- `documentAlreadyExistsError` with `id`.
Types the lake chose where Sanity's are unconfirmed (reference notes, section 9):
- `documentNotFoundError` with `id`: a patch of a document that does not exist (409);
- `transactionIdConflictError` with `transactionId`: a transaction id used before (409);
- `invalidDocumentIdError`, `missingDocumentTypeError`, `invalidMutationError`,
  `invalidPatchError`, `invalidPathError`: the request itself is wrong (400).
"""

from __future__ import annotations

from typing import Any

from cms_client.error_bodies import mutation_error_body
from cms_client.errors import (
    BadRequest,
    DocumentExists,
    DocumentMissing,
    MutationError,
    RevisionConflict,
)


def _message(body: dict[str, Any]) -> str:
    return str(body["error"]["description"])


def revision_conflict(
    index: int, document_id: str, current: str, expected: str
) -> RevisionConflict:
    body = mutation_error_body(
        index,
        {
            "type": "documentRevisionIDDoesNotMatchError",
            "description": (
                f'Document "{document_id}" has unexpected revision ID ("{current}"), '
                f'expected "{expected}"'
            ),
            "currentRevisionID": current,
            "expectedRevisionID": expected,
        },
    )
    return RevisionConflict(
        _message(body),
        index=index,
        document_id=document_id,
        current_revision=current,
        expected_revision=expected,
        body=body,
    )


def document_exists(index: int, document_id: str) -> DocumentExists:
    body = mutation_error_body(
        index,
        {
            "type": "documentAlreadyExistsError",
            "description": f'Document by ID "{document_id}" already exists',
            "id": document_id,
        },
    )
    return DocumentExists(_message(body), index=index, document_id=document_id, body=body)


def document_missing(index: int, document_id: str) -> DocumentMissing:
    body = mutation_error_body(
        index,
        {
            "type": "documentNotFoundError",
            "description": f'Document by ID "{document_id}" not found',
            "id": document_id,
        },
    )
    return DocumentMissing(_message(body), index=index, document_id=document_id, body=body)


def transaction_id_used(transaction_id: str) -> MutationError:
    """A transaction id is unique per dataset; reusing one refuses the whole transaction.

    The failure belongs to the transaction, not to one mutation; it is reported at index 0.
    """
    body = mutation_error_body(
        0,
        {
            "type": "transactionIdConflictError",
            "description": f'Transaction ID "{transaction_id}" has already been used',
            "transactionId": transaction_id,
        },
    )
    return MutationError(_message(body), index=0, document_id=None, body=body)


def bad_mutation(index: int, kind: str, description: str, **fields: Any) -> BadRequest:
    """The request is wrong at mutation `index` (HTTP 400)."""
    body = mutation_error_body(index, {"type": kind, "description": description, **fields})
    return BadRequest(_message(body), body=body)

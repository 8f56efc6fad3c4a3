"""One retry policy for the guarded writes made outside the executor (tenacity).

Resolving an error log and claiming an alert or a digest are single-document guarded
writes, not planned stock transactions: each attempt reads the document fresh, decides,
and writes with `ifRevisionID` (or `create`, which fails if the id exists). Losing the
race means nothing was written, so the attempt is simply run again on a new read, at once
(the winner has already written; waiting would not change what the next read sees), a
bounded number of times. When every attempt loses, `ConflictRetriesExhausted` says so and
the caller answers "try again later" as for any stock operation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from tenacity import AsyncRetrying, RetryError, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_none

from cms_client.errors import DocumentExists, DocumentMissing, RevisionConflict
from service.engine.errors import ConflictRetriesExhausted

T = TypeVar("T")

#: Attempts of one guarded write before giving up.
GUARDED_WRITE_ATTEMPTS: Final = 6
#: The store's answers that mean "another writer got there first; nothing was written".
LOST_RACE: Final = (RevisionConflict, DocumentExists, DocumentMissing)


async def retry_guarded_write(
    operation: str,
    attempt: Callable[[], Awaitable[T]],
    *,
    attempts: int = GUARDED_WRITE_ATTEMPTS,
) -> T:
    """Run `attempt` (read fresh, decide, one guarded write) again while it loses a race;
    its result, or `ConflictRetriesExhausted(operation, attempts)`."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_none(),
        retry=retry_if_exception_type(LOST_RACE),
        reraise=False,
    )
    try:
        return await retrying(attempt)
    except RetryError:
        raise ConflictRetriesExhausted(operation, attempts) from None

"""Ids of service-owned documents, in a dotted namespace that Sanity keeps private.

Dotted ids are never served to unauthenticated readers, so reservations, ledger entries,
idempotency records and error logs stay private even in a public dataset. Ids are
deterministic where they double as idempotency keys (rule 4 of the design): the reservation
id from the checkout session id, the idempotency record id from the hashed key.
"""

from __future__ import annotations

import hashlib
import re

NAMESPACE = "inventory"
RESERVATION_PREFIX = f"{NAMESPACE}.reservation."
IDEMPOTENCY_PREFIX = f"{NAMESPACE}.idempotency."
LEDGER_PREFIX = f"{NAMESPACE}.tx."
ERROR_PREFIX = f"{NAMESPACE}.error."
REFUNDS_PREFIX = f"{NAMESPACE}.refunds."

_MAX_ID_LENGTH = 128
# One id segment: Sanity's charset minus '.', not starting with '-'.
_CLEAN_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def id_segment(value: str, *, prefix: str) -> str:
    """`value` as one id segment under `prefix`, deterministically and without collisions.

    A value that is already a clean segment (Stripe's `cs_test_...` session ids are) is used
    as it is. Anything else becomes `h.<sha256>`: two segments, so it can never collide with
    a clean value, which never contains a dot.
    """
    if _CLEAN_SEGMENT.match(value) and len(prefix) + len(value) <= _MAX_ID_LENGTH:
        return value
    return "h." + _sha256(value)


def reservation_id(session_id: str) -> str:
    """`inventory.reservation.<session>`; the original session id is kept as a field."""
    return RESERVATION_PREFIX + id_segment(session_id, prefix=RESERVATION_PREFIX)


def refunds_id(payment_key: str) -> str:
    """`inventory.refunds.<payment intent or charge>`: the refunds of one payment."""
    return REFUNDS_PREFIX + id_segment(payment_key, prefix=REFUNDS_PREFIX)


def idempotency_id(key: str) -> str:
    """`inventory.idempotency.<sha256 hex of key>`."""
    return IDEMPOTENCY_PREFIX + _sha256(key)


def ledger_id(transaction_token: str, index: int) -> str:
    """`inventory.tx.<token>-<n>`: the n-th ledger entry written by one transaction."""
    return f"{LEDGER_PREFIX}{id_segment(transaction_token, prefix=LEDGER_PREFIX)}-{index}"


def editor_entry_id(reference: str) -> str:
    """`inventory.tx.editor.<sha256>`: the one ledger entry for an editor change `reference`."""
    return f"{LEDGER_PREFIX}editor.{_sha256(reference)}"


def error_id(token: str) -> str:
    """`inventory.error.<token>`; a token derived from a dedupe key makes the log unique."""
    return ERROR_PREFIX + id_segment(token, prefix=ERROR_PREFIX)


def error_id_for_key(dedupe_key: str) -> str:
    """The one error-log id for `dedupe_key`, so retries log a problem once."""
    return ERROR_PREFIX + _sha256(dedupe_key)

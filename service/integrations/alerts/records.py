"""The durable "already alerted" state of each stock line: one service-owned document each.

`inventory.alert.<product>` (or `.<product>.<variant>`) lists the states announced since
the line last recovered. Claiming a state is a guarded write (`create` of the fixed id, or a
patch with `ifRevisionID`), so of any number of processes that see the same crossing, one
claims it and the others find it claimed: a line is announced at most once per state until
it is back in stock. `changedAt` (the time of the ledger entry that last moved the record)
keeps a crossing that is handled late from undoing a newer recovery or alert.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any, Final

from cms_client import mutations as m
from cms_client.errors import DocumentExists, DocumentMissing, RevisionConflict
from cms_client.store import DocumentStore
from schemas.base import format_timestamp
from schemas.ids import NAMESPACE
from service.engine import ConflictRetriesExhausted
from service.integrations.alerts.crossings import Crossing

ALERT_TYPE: Final = "inventoryAlert"
ALERT_PREFIX: Final = f"{NAMESPACE}.alert."
CLAIM_ATTEMPTS = 6

_CLEAN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_MAX_ID = 128


def alert_id(product_id: str, line: str | None) -> str:
    """Readable when the parts are clean id segments, else `inventory.alert.h.<sha256>`."""
    parts = [product_id] if line is None else [product_id, line]
    readable = ALERT_PREFIX + ".".join(parts)
    if all(_CLEAN.match(part) for part in parts) and len(readable) <= _MAX_ID:
        return readable
    return ALERT_PREFIX + "h." + hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _changed_at(doc: dict[str, Any]) -> datetime | None:
    raw = doc.get("changedAt")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def _alerted(doc: dict[str, Any] | None) -> list[str]:
    states = doc.get("alerted") if doc else None
    return [s for s in states if isinstance(s, str)] if isinstance(states, list) else []


def _new_record(doc_id: str, crossing: Crossing, fields: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": doc_id, "_type": ALERT_TYPE, "productId": crossing.product_id}
    if crossing.variant_key:
        doc["variantKey"] = crossing.variant_key
    if crossing.size:
        doc["size"] = crossing.size
    return {**doc, **fields}


async def record_crossing(store: DocumentStore, crossing: Crossing) -> bool:
    """Record the crossing in the line's alert document; True when this call claimed an
    alert that must now be sent (False: a recovery, or already announced, or stale)."""
    doc_id = alert_id(crossing.product_id, crossing.line)
    stamp = format_timestamp(crossing.at)
    for _ in range(CLAIM_ATTEMPTS):
        (doc,) = await store.get_documents([doc_id])
        changed = _changed_at(doc) if doc else None
        if changed is not None and changed > crossing.at:
            return False
        alerted = _alerted(doc)
        if crossing.is_alert:
            if crossing.after in alerted:
                return False
            fields = {"alerted": [*alerted, crossing.after], "changedAt": stamp}
        elif crossing.is_recovery and alerted:
            fields = {"alerted": [], "changedAt": stamp}
        else:
            return False
        try:
            if doc is None:
                await store.mutate(
                    [m.create(_new_record(doc_id, crossing, fields))],
                    return_documents=False,
                    idempotent=True,
                )
            else:
                await store.mutate(
                    [m.patch(doc_id, if_revision_id=doc["_rev"], set=fields)],
                    return_documents=False,
                    idempotent=True,
                )
        except (RevisionConflict, DocumentExists, DocumentMissing):
            continue
        return crossing.is_alert
    raise ConflictRetriesExhausted("record low-stock alert", CLAIM_ATTEMPTS)

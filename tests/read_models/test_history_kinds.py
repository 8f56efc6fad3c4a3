"""Every ledger entry type has a history kind (a new type must say what it is)."""

from typing import get_args

from schemas.ledger import LedgerEntryType
from service.read_models.history import _KIND, HISTORY_FILTERS


def test_every_ledger_entry_type_has_a_kind_and_can_be_filtered() -> None:
    assert set(get_args(LedgerEntryType)) <= set(_KIND)
    assert {kind for kind, _ in _KIND.values()} <= set(HISTORY_FILTERS)

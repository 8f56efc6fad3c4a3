"""A store that can be switched to fail, to see how the API answers an outage."""

from __future__ import annotations

from cms_client.lake import Lake
from cms_client.store import DelegatingStore


class SwitchableStore(DelegatingStore):
    """Delegates to a lake; raises `failure` from every call while it is set."""

    def __init__(self, lake: Lake) -> None:
        super().__init__(lake)
        self.lake = lake
        self.failure: Exception | None = None
        self.calls = 0

    def before_call(self, call: str) -> None:
        self.calls += 1
        if self.failure is not None:
            raise self.failure

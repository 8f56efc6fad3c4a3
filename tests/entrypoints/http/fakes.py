"""A store that can be switched to fail, to see how the API answers an outage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cms_client.lake import Lake
from cms_client.store import Document, Mutation, MutationResult, Perspective, Visibility


class SwitchableStore:
    """Delegates to a lake; raises `failure` from every call while it is set."""

    kind = "lake"

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self.failure: Exception | None = None
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.failure is not None:
            raise self.failure

    async def get_documents(
        self, ids: Sequence[str], *, include_all_versions: bool = False
    ) -> list[Document | None]:
        self._check()
        return await self.lake.get_documents(ids, include_all_versions=include_all_versions)

    async def query(
        self,
        groq: str,
        params: Mapping[str, Any] | None = None,
        *,
        perspective: Perspective = "published",
    ) -> Any:
        self._check()
        return await self.lake.query(groq, params, perspective=perspective)

    async def mutate(
        self,
        mutations: Sequence[Mutation],
        *,
        transaction_id: str | None = None,
        return_documents: bool = True,
        visibility: Visibility = "sync",
        dry_run: bool = False,
        idempotent: bool = False,
    ) -> MutationResult:
        self._check()
        return await self.lake.mutate(
            mutations,
            transaction_id=transaction_id,
            return_documents=return_documents,
            visibility=visibility,
            dry_run=dry_run,
            idempotent=idempotent,
        )

    async def aclose(self) -> None:
        await self.lake.aclose()

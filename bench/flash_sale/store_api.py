"""Talking to the lake server directly: seed products, read final state, read its counts."""

from __future__ import annotations

from typing import Any

import httpx

from bench.flash_sale.lake_process import STATS_PATH

API_VERSION = "v2025-02-19"


class LakeApi:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, dataset: str) -> None:
        self._http = http
        self._base = f"{base_url}/{API_VERSION}/data"
        self._stats_url = base_url + STATS_PATH
        self._dataset = dataset
        self._headers = {"Authorization": f"Bearer {token}"}

    async def mutate(self, mutations: list[dict[str, Any]]) -> None:
        response = await self._http.post(
            f"{self._base}/mutate/{self._dataset}",
            json={"mutations": mutations},
            headers=self._headers,
        )
        response.raise_for_status()

    async def query(self, query: str, params: dict[str, Any] | None = None) -> Any:
        response = await self._http.post(
            f"{self._base}/query/{self._dataset}",
            params={"perspective": "raw"},
            json={"query": query, "params": params or {}},
            headers=self._headers,
        )
        response.raise_for_status()
        return response.json()["result"]

    async def request_counts(self) -> dict[str, dict[str, int]]:
        """Answers the lake gave so far: endpoint -> status -> count."""
        response = await self._http.get(self._stats_url)
        response.raise_for_status()
        counts: dict[str, dict[str, int]] = response.json()["requests"]
        return counts

"""The official `@sanity/client` (7 and 8, under Node) against a served lake: listen, fetch,
create, patch, transaction and mutate, as a storefront or script would call them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import TOKEN
from tests.server.test_serve import running
from tests.support.node import node_dir, run_node

SCRIPT = """
import {createClient} from '%(package)s'

const client = createClient({
  projectId: 'lake', dataset: 'production', apiHost: '%(base)s', useProjectHostname: false,
  apiVersion: '2025-02-19', token: '%(token)s', useCdn: false,
})
const waitFor = async (check, what) => {
  for (let i = 0; i < 400; i++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error('timed out waiting for ' + what)
}

const events = []
const errors = []
const subscription = client
  .listen('*[_type == "product"]', {}, {events: ['welcome', 'mutation']})
  .subscribe({next: (event) => events.push(event), error: (error) => errors.push(String(error))})
await waitFor(() => events.some((e) => e.type === 'welcome') || errors.length, 'welcome')

const created = await client.create({_id: 'p1', _type: 'product', stock: 1})
const patched = await client.patch('p1').inc({stock: 2}).commit()
const transaction = await client
  .transaction()
  .createOrReplace({_id: 'p2', _type: 'product', stock: 0})
  .patch('p1', (p) => p.set({title: 'Tee'}))
  .commit()
const mutated = await client.mutate([{delete: {id: 'p2'}}])
const fetched = await client.fetch('*[_type == $type] | order(_id) {_id, stock, title}', {
  type: 'product',
})
const document = await client.getDocument('p1')
const mutations = () => events.filter((e) => e.type === 'mutation')
await waitFor(() => mutations().length >= 5 || errors.length, 'five mutation events')
subscription.unsubscribe()

console.log(JSON.stringify({created, patched, transaction, mutated, fetched, document, errors,
  events: mutations().map((e) => ({id: e.documentId, transition: e.transition,
    transactionId: e.transactionId, stock: e.result ? e.result.stock : null}))}))
"""


@pytest.mark.parametrize("package", ["@sanity/client", "@sanity/client-8"])
async def test_the_official_client_listens_fetches_and_writes(tmp_path: Path, package: str) -> None:
    node_dir()  # skips without Node
    async with running(tmp_path / "lake.sqlite3", token=TOKEN) as client:
        base = str(client().base_url).rstrip("/")
        script = SCRIPT % {"package": package, "base": base, "token": TOKEN}
        out: dict[str, Any] = json.loads(await asyncio.to_thread(run_node, script, timeout=60))

    assert out["errors"] == []
    assert out["created"]["_id"] == "p1" and out["created"]["stock"] == 1
    assert out["patched"]["stock"] == 3
    assert out["transaction"]["transactionId"]
    assert out["mutated"]["transactionId"]
    assert out["fetched"] == [{"_id": "p1", "stock": 3, "title": "Tee"}]
    assert out["document"]["title"] == "Tee"
    events = [(e["id"], e["transition"], e["stock"]) for e in out["events"]]
    assert events == [
        ("p1", "appear", 1),
        ("p1", "update", 3),
        ("p2", "appear", 0),
        ("p1", "update", 3),
        ("p2", "disappear", None),
    ]
    transaction_events = [
        e for e in out["events"] if e["transactionId"] == out["transaction"]["transactionId"]
    ]
    assert len(transaction_events) == 2

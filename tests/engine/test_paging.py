"""The one paging helper: a keyset walk reads every row once, even while rows are added."""

from __future__ import annotations

from cms_client import mutations as m
from cms_client.lake import Lake
from service.engine import pages_by_id


def _notes(limit: int) -> str:
    return f'*[_type == "note" && _id > $after] | order(_id asc) [0...{limit}] {{_id}}'


async def test_a_walk_reads_every_row_once_across_pages(lake: Lake) -> None:
    await lake.mutate([m.create({"_id": f"note.{i:02d}", "_type": "note"}) for i in range(7)])
    seen: list[str] = []
    sizes: list[int] = []
    async for page in pages_by_id(lake, _notes, page_size=3):
        sizes.append(len(page))
        seen.extend(row["_id"] for row in page)
        if len(sizes) == 1:
            # Written behind the cursor while the walk runs: no page shifts, nothing twice.
            await lake.mutate([m.create({"_id": "note.00a", "_type": "note"})])
    assert seen == [f"note.{i:02d}" for i in range(7)]
    assert sizes == [3, 3, 1]


async def test_a_walk_stops_at_its_page_bound(lake: Lake) -> None:
    await lake.mutate([m.create({"_id": f"note.{i:02d}", "_type": "note"}) for i in range(7)])
    pages = [page async for page in pages_by_id(lake, _notes, page_size=2, max_pages=2)]
    assert [row["_id"] for page in pages for row in page] == [
        "note.00",
        "note.01",
        "note.02",
        "note.03",
    ]

"""Import and export in Sanity's dataset export format (`.ndjson` and `.tar.gz`)."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from cms_client import mutations as m
from cms_client.lake import Lake
from cms_client.lake.transfer import TransferError, export_dataset, import_dataset
from tests.support.clock import ManualClock

# Lines as `sanity dataset export` writes them: system fields, drafts, an asset document,
# an image field rewritten to `_sanityAsset`, a system group, unicode.
SANITY_EXPORT: list[dict[str, Any]] = [
    {
        "_createdAt": "2024-03-01T09:00:00Z",
        "_id": "product-1",
        "_rev": "Xy7Ab12cDe34Fg56Hi78Jk",
        "_type": "product",
        "_updatedAt": "2024-05-02T10:11:12Z",
        "title": "Crème brûlée mug",
        "stock": {"onHand": 12, "reserved": 2},
        "variants": [{"_key": "k1", "_type": "variant", "sku": "MUG-1"}],
        "image": {"_type": "image", "_sanityAsset": "image@file://./images/abc-200x200.jpg"},
    },
    {
        "_createdAt": "2024-03-01T09:00:00Z",
        "_id": "drafts.product-1",
        "_rev": "Dr4ftRev0000000000000a",
        "_type": "product",
        "_updatedAt": "2024-05-03T08:00:00Z",
        "title": "Crème brûlée mug (new photo)",
        "stock": {"onHand": 12, "reserved": 2},
    },
    {
        "_createdAt": "2024-01-01T00:00:00Z",
        "_id": "image-abc-200x200-jpg",
        "_rev": "AssetRev00000000000000",
        "_type": "sanity.imageAsset",
        "_updatedAt": "2024-01-01T00:00:00Z",
        "extension": "jpg",
    },
    {
        "_createdAt": "2023-12-01T00:00:00Z",
        "_id": "_.groups.public",
        "_rev": "GroupRev00000000000000",
        "_type": "system.group",
        "_updatedAt": "2023-12-01T00:00:00Z",
        "grants": [{"filter": "_id in path('**')", "permissions": ["read"]}],
    },
]


def write_ndjson(path: Path, documents: list[dict[str, Any]], *, blank_lines: bool = False) -> Path:
    lines = [json.dumps(doc, ensure_ascii=False) for doc in documents]
    text = ("\n\n" if blank_lines else "\n").join(lines) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def write_sanity_tarball(path: Path, documents: list[dict[str, Any]]) -> Path:
    """A tarball laid out as `sanity dataset export` lays it out."""
    folder = "production-export-2024-05-03t10-00-00-000z"
    members = {
        f"{folder}/data.ndjson": "".join(json.dumps(d) + "\n" for d in documents).encode(),
        f"{folder}/assets.json": json.dumps(
            {"image-abc-200x200-jpg": {"originalFilename": "mug.jpg"}}
        ).encode(),
        f"{folder}/images/abc-200x200.jpg": b"\xff\xd8\xff\xe0 not really a jpeg",
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


async def read_all(path: Path, ids: list[str]) -> list[dict[str, Any] | None]:
    async with Lake(path) as lake:
        return await lake.get_documents(ids)


ALL_IDS = [d["_id"] for d in SANITY_EXPORT]


async def test_import_keeps_ids_revisions_and_timestamps(tmp_path: Path):
    count = import_dataset(
        tmp_path / "lake.db", write_ndjson(tmp_path / "in.ndjson", SANITY_EXPORT)
    )
    assert count == 4
    assert await read_all(tmp_path / "lake.db", ALL_IDS) == SANITY_EXPORT


async def test_imported_revisions_guard_writes(tmp_path: Path):
    import_dataset(tmp_path / "lake.db", write_ndjson(tmp_path / "in.ndjson", SANITY_EXPORT))
    async with Lake(tmp_path / "lake.db") as lake:
        result = await lake.mutate(
            [m.patch("product-1", if_revision_id="Xy7Ab12cDe34Fg56Hi78Jk", dec={"stock.onHand": 1})]
        )
        assert result.results[0].document is not None
        assert result.results[0].document["stock"]["onHand"] == 11


async def test_hand_written_sanity_tarball_imports_its_documents_only(tmp_path: Path):
    tarball = write_sanity_tarball(tmp_path / "production.tar.gz", SANITY_EXPORT)
    assert import_dataset(tmp_path / "lake.db", tarball) == 4
    assert await read_all(tmp_path / "lake.db", ALL_IDS) == SANITY_EXPORT


@pytest.mark.parametrize("suffix", [".ndjson", ".tar.gz"])
async def test_export_then_import_round_trips(tmp_path: Path, suffix: str):
    import_dataset(tmp_path / "a.db", write_ndjson(tmp_path / "in.ndjson", SANITY_EXPORT))
    async with Lake(tmp_path / "a.db") as lake:
        await lake.mutate([m.create({"_id": "versions.r1.product-1", "_type": "product"})])
        await lake.mutate([m.delete("_.groups.public")])
        expected = await lake.get_documents(
            ["product-1", "drafts.product-1", "image-abc-200x200-jpg", "versions.r1.product-1"]
        )
    exported = tmp_path / f"dump{suffix}"
    assert export_dataset(tmp_path / "a.db", exported) == 4
    assert import_dataset(tmp_path / "b.db", exported) == 4
    ids = [d["_id"] for d in expected if d]
    assert await read_all(tmp_path / "b.db", ids) == expected


def test_export_writes_documents_by_id_one_per_line(tmp_path: Path):
    import_dataset(tmp_path / "a.db", write_ndjson(tmp_path / "in.ndjson", SANITY_EXPORT))
    export_dataset(tmp_path / "a.db", tmp_path / "out.ndjson")
    lines = (tmp_path / "out.ndjson").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["_id"] for line in lines] == sorted(ALL_IDS)
    assert "Crème brûlée" in lines[3]


def test_tarball_export_has_sanitys_layout(tmp_path: Path):
    import_dataset(tmp_path / "a.db", write_ndjson(tmp_path / "in.ndjson", SANITY_EXPORT))
    export_dataset(tmp_path / "a.db", tmp_path / "shop-2026.tar.gz")
    with tarfile.open(tmp_path / "shop-2026.tar.gz", "r:gz") as tar:
        assert sorted(tar.getnames()) == ["shop-2026/assets.json", "shop-2026/data.ndjson"]
        data = tar.extractfile("shop-2026/data.ndjson")
        assert data is not None
        assert len(data.read().decode().splitlines()) == 4


async def test_import_fills_in_missing_system_fields(tmp_path: Path):
    clock = ManualClock()
    source = write_ndjson(
        tmp_path / "in.ndjson", [{"_id": "a", "_type": "t"}, {"_type": "t"}], blank_lines=True
    )
    assert import_dataset(tmp_path / "lake.db", source, clock=clock) == 2
    async with Lake(tmp_path / "lake.db") as lake:
        (a,) = await lake.get_documents(["a"])
    assert a is not None
    assert (a["_createdAt"], a["_updatedAt"]) == ("2026-11-21T12:00:00.000Z",) * 2
    assert len(a["_rev"]) == 22


async def test_existing_ids_refuse_the_whole_import_unless_replacing(tmp_path: Path):
    lake_file = tmp_path / "lake.db"
    async with Lake(lake_file) as lake:
        await lake.mutate([m.create({"_id": "drafts.product-1", "_type": "product", "mine": True})])
    source = write_ndjson(tmp_path / "in.ndjson", SANITY_EXPORT)
    with pytest.raises(
        TransferError, match=r"in.ndjson:2: document 'drafts.product-1' already exists"
    ):
        import_dataset(lake_file, source)
    assert await read_all(lake_file, ["product-1"]) == [None], "nothing of a refused import"
    assert import_dataset(lake_file, source, replace=True) == 4
    assert await read_all(lake_file, ["drafts.product-1"]) == [SANITY_EXPORT[1]]


def test_an_id_twice_in_the_file(tmp_path: Path):
    source = write_ndjson(tmp_path / "in.ndjson", [SANITY_EXPORT[0], SANITY_EXPORT[0]])
    with pytest.raises(TransferError, match=r"in\.ndjson:2: document 'product-1' appears twice"):
        import_dataset(tmp_path / "lake.db", source)
    assert import_dataset(tmp_path / "lake.db", source, replace=True) == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"_id": "a", "_type": "t"}\n{"_id": "b", "_type"\n', r"in.ndjson:2: not valid JSON"),
        ('{"_id": "a"}\n', r'in.ndjson:1: Document is missing required field "_type"'),
        ('["not", "a", "document"]\n', r"in.ndjson:1: a document must be a JSON object"),
        ('{"_id": "a..b", "_type": "t"}\n', r"in.ndjson:1: Malformed document ID"),
        ('{"_id": "a", "_type": "t", "x": NaN}\n', r"in.ndjson:1: not storable as JSON"),
    ],
)
async def test_bad_lines_are_named_and_nothing_is_imported(
    tmp_path: Path, content: str, problem: str
):
    (tmp_path / "in.ndjson").write_text(content, encoding="utf-8")
    with pytest.raises(TransferError, match=problem):
        import_dataset(tmp_path / "lake.db", tmp_path / "in.ndjson")
    assert await read_all(tmp_path / "lake.db", ["a"]) == [None]


def test_file_types_and_missing_files(tmp_path: Path):
    with pytest.raises(TransferError, match=r"\.ndjson or \.tar\.gz"):
        import_dataset(tmp_path / "lake.db", tmp_path / "data.json")
    with pytest.raises(TransferError, match="no lake file"):
        export_dataset(tmp_path / "nowhere.db", tmp_path / "out.ndjson")
    empty = tmp_path / "empty.tar.gz"
    with tarfile.open(empty, "w:gz"):
        pass
    with pytest.raises(TransferError, match=r"no data\.ndjson"):
        import_dataset(tmp_path / "lake.db", empty)

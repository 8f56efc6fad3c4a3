"""Import and export in Sanity's dataset export format (`.ndjson` and `.tar.gz`)."""

from __future__ import annotations

import copy
import hashlib
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


#: SANITY_EXPORT as the lake holds it: the `_sanityAsset` field is a reference again (to the
#: asset document the export itself carries).
IMPORTED: list[dict[str, Any]] = copy.deepcopy(SANITY_EXPORT)
IMPORTED[0]["image"] = {
    "_type": "image",
    "asset": {"_type": "reference", "_ref": "image-abc-200x200-jpg"},
}


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
    assert await read_all(tmp_path / "lake.db", ALL_IDS) == IMPORTED


async def test_imported_revisions_guard_writes(tmp_path: Path):
    import_dataset(tmp_path / "lake.db", write_ndjson(tmp_path / "in.ndjson", SANITY_EXPORT))
    async with Lake(tmp_path / "lake.db") as lake:
        result = await lake.mutate(
            [m.patch("product-1", if_revision_id="Xy7Ab12cDe34Fg56Hi78Jk", dec={"stock.onHand": 1})]
        )
        assert result.results[0].document is not None
        assert result.results[0].document["stock"]["onHand"] == 11


async def test_an_asset_document_in_the_data_wins_over_the_file(tmp_path: Path):
    tarball = write_sanity_tarball(tmp_path / "production.tar.gz", SANITY_EXPORT)
    assert import_dataset(tmp_path / "lake.db", tarball) == 4
    assert await read_all(tmp_path / "lake.db", ALL_IDS) == IMPORTED


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
    assert await read_all(lake_file, ["drafts.product-1"]) == [IMPORTED[1]]


def test_an_id_twice_in_the_file(tmp_path: Path):
    source = write_ndjson(tmp_path / "in.ndjson", [SANITY_EXPORT[1], SANITY_EXPORT[1]])
    with pytest.raises(
        TransferError, match=r"in\.ndjson:2: document 'drafts.product-1' appears twice"
    ):
        import_dataset(tmp_path / "lake.db", source)
    assert import_dataset(tmp_path / "lake.db", source, replace=True) == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"_id": "a", "_type": "t"}\n{"_id": "b", "_type"\n', r"in.ndjson:2: not valid JSON"),
        ('{"_id": "a"}\n', r"in.ndjson:1: document 'a': Document is missing required field"),
        ('["not", "a", "document"]\n', r"in.ndjson:1: a document must be a JSON object"),
        ('{"_id": "a..b", "_type": "t"}\n', r"in.ndjson:1: document 'a..b': Malformed document"),
        (
            '{"_id": "a", "_type": "t", "x": NaN}\n',
            r"in.ndjson:1: document 'a': x is nan, not a JSON number",
        ),
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


# A real export: asset documents are not in data.ndjson; their files and assets.json are.
SHA = "a" * 40
IMAGE_NAME = f"{SHA}-640x480.png"
IMAGE_ID = f"image-{SHA}-640x480-png"
IMAGE_BYTES = b"\x89PNG\r\n\x1a\n stand-in image bytes"
WITH_ASSETS: list[dict[str, Any]] = [
    {
        "_id": "product-1",
        "_type": "product",
        "_rev": "r1",
        "_createdAt": "2024-03-01T09:00:00Z",
        "_updatedAt": "2024-03-01T09:00:00Z",
        "gallery": [
            {
                "_key": "k1",
                "_type": "image",
                "_sanityAsset": f"image@file://./images/{IMAGE_NAME}",
                "alt": "Front",
            }
        ],
    }
]


def write_tarball_with_assets(path: Path) -> Path:
    folder = "production-export"
    members = {
        f"{folder}/data.ndjson": "".join(json.dumps(d) + "\n" for d in WITH_ASSETS).encode(),
        f"{folder}/assets.json": json.dumps(
            {f"image-{SHA}": {"originalFilename": "front.png", "label": "hero"}}
        ).encode(),
        f"{folder}/images/{IMAGE_NAME}": IMAGE_BYTES,
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


async def test_a_tarball_imports_with_its_asset_documents_and_files(tmp_path: Path):
    lake_file = tmp_path / "lake.db"
    assert import_dataset(lake_file, write_tarball_with_assets(tmp_path / "in.tar.gz")) == 2
    product, asset = await read_all(lake_file, ["product-1", IMAGE_ID])

    assert product is not None and asset is not None
    assert product["gallery"] == [
        {
            "_key": "k1",
            "_type": "image",
            "alt": "Front",
            "asset": {"_type": "reference", "_ref": IMAGE_ID},
        }
    ]
    assert asset["_type"] == "sanity.imageAsset"
    assert asset["originalFilename"] == "front.png" and asset["label"] == "hero"
    assert asset["sha1hash"] == hashlib.sha1(IMAGE_BYTES).hexdigest()
    assert asset["size"] == len(IMAGE_BYTES) and asset["extension"] == "png"
    assert asset["metadata"]["dimensions"]["width"] == 640
    kept = tmp_path / "lake.db.assets" / "production" / "images" / IMAGE_NAME
    assert kept.read_bytes() == IMAGE_BYTES
    assert asset["url"] == kept.resolve().as_uri()
    # A reference resolves in GROQ like on Sanity.
    async with Lake(lake_file) as lake:
        name = await lake.query('*[_id == "product-1"][0].gallery[0].asset._ref')
    assert name == IMAGE_ID


async def test_assets_round_trip_through_a_tarball_export(tmp_path: Path):
    import_dataset(tmp_path / "a.db", write_tarball_with_assets(tmp_path / "in.tar.gz"))
    exported = tmp_path / "out.tar.gz"
    assert export_dataset(tmp_path / "a.db", exported) == 1  # the asset went out as a file
    with tarfile.open(exported, "r:gz") as tar:
        names = sorted(tar.getnames())
        data = tar.extractfile("out/data.ndjson")
        listed = tar.extractfile("out/assets.json")
        assert data is not None and listed is not None
        lines = [json.loads(line) for line in data.read().decode().splitlines()]
        metadata = json.loads(listed.read())
    assert names == ["out/assets.json", "out/data.ndjson", f"out/images/{IMAGE_NAME}"]
    assert lines[0]["gallery"][0]["_sanityAsset"] == f"image@file://./images/{IMAGE_NAME}"
    assert metadata[f"image-{SHA}"]["label"] == "hero"

    assert import_dataset(tmp_path / "b.db", exported) == 2
    before = await read_all(tmp_path / "a.db", ["product-1", IMAGE_ID])
    after = await read_all(tmp_path / "b.db", ["product-1", IMAGE_ID])
    assert after[0] == before[0]
    assert after[1] is not None and before[1] is not None
    assert after[1]["sha1hash"] == before[1]["sha1hash"]
    assert after[1]["originalFilename"] == "front.png"


def test_a_missing_asset_file_names_the_line_and_document(tmp_path: Path):
    source = write_ndjson(tmp_path / "in.ndjson", WITH_ASSETS)
    with pytest.raises(
        TransferError,
        match=rf"in\.ndjson:1: document 'product-1': asset file images/{IMAGE_NAME} is not",
    ):
        import_dataset(tmp_path / "lake.db", source)
    # Beside the .ndjson, as `sanity dataset import` finds them, it imports.
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / IMAGE_NAME).write_bytes(IMAGE_BYTES)
    assert import_dataset(tmp_path / "lake.db", source) == 2


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            {"_id": "big", "_type": "t", "n": 10**30},
            r"in\.ndjson:1: document 'big': n is an integer",
        ),
        (
            {"_id": "deep", "_type": "t", "a": json.loads('{"a":' * 25 + "1" + "}" * 25)},
            r"in\.ndjson:1: document 'deep': .* nests deeper than 20 levels",
        ),
        (
            {"_id": "odd", "_type": "t", "s": "\ud800"},
            r"in\.ndjson:1: document 'odd': s is not valid",
        ),
    ],
)
def test_documents_past_sanitys_limits_are_refused_by_line(
    tmp_path: Path, document: dict[str, Any], problem: str
):
    source = tmp_path / "in.ndjson"
    source.write_text(json.dumps(document) + "\n", encoding="utf-8")
    with pytest.raises(TransferError, match=problem):
        import_dataset(tmp_path / "lake.db", source)


def test_unreadable_files_are_one_line_errors(tmp_path: Path):
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(TransferError, match=r"broken\.tar\.gz: cannot be read"):
        import_dataset(tmp_path / "lake.db", broken)
    latin = tmp_path / "latin.ndjson"
    latin.write_bytes(b'{"_id": "a", "_type": "caf\xe9"}\n')
    with pytest.raises(TransferError, match=r"latin\.ndjson: not UTF-8"):
        import_dataset(tmp_path / "lake.db", latin)
    with pytest.raises(TransferError, match=r"missing\.ndjson: cannot be read"):
        import_dataset(tmp_path / "lake.db", tmp_path / "missing.ndjson")

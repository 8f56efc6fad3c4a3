"""The export endpoint, the lake commands' `--dataset`, and a public dataset's anonymous reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cms_client.lake import Lake
from service.entrypoints.cli.main import main
from tests.server.conftest import API, AUTH, TOKEN, mutate

DOCS = [
    {"create": {"_id": "p1", "_type": "product", "title": "Mug"}},
    {"create": {"_id": "drafts.p1", "_type": "product", "title": "Mug (draft)"}},
    {"create": {"_id": "p2", "_type": "product", "title": "Tee"}},
]


async def test_export_streams_every_document_as_ndjson_with_the_token(serve, lake: Lake) -> None:
    client = serve(token=TOKEN, public=True)
    await mutate(client, DOCS, headers=AUTH)

    exported = await client.get(f"{API}/export/production", headers=AUTH)
    anonymous = await client.get(f"{API}/export/production")

    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert [d["_id"] for d in lines] == ["drafts.p1", "p1", "p2"]
    assert lines[0]["title"] == "Mug (draft)" and lines[0]["_rev"]
    assert anonymous.status_code == 401, "an export needs the token, public or not"


async def test_a_public_dataset_answers_published_documents_without_a_token(
    serve, lake: Lake
) -> None:
    client = serve(token=TOKEN, public=True)
    await mutate(client, DOCS, headers=AUTH)

    raw = await client.get(
        f"{API}/query/production",
        params={"query": "*[_type == 'product'] | order(_id)._id", "perspective": "raw"},
    )
    drafts = await client.get(
        f"{API}/query/production",
        params={"query": "*[_id == 'p1'][0].title", "perspective": "drafts"},
    )
    docs = await client.get(f"{API}/doc/production/p1,drafts.p1")
    written = await mutate(client, [{"create": {"_id": "x", "_type": "t"}}])
    wrong_token = await client.get(
        f"{API}/doc/production/p1", headers={"Authorization": "Bearer no"}
    )

    assert raw.json()["result"] == ["p1", "p2"], "drafts never reach an anonymous reader"
    assert drafts.json()["result"] == "Mug"
    assert [d["_id"] for d in docs.json()["documents"]] == ["p1"]
    assert docs.json()["omitted"] == [{"id": "drafts.p1", "reason": "permission"}]
    assert written.status_code == 401
    assert wrong_token.status_code == 401


async def test_a_private_dataset_stays_closed(serve, lake: Lake) -> None:
    client = serve(token=TOKEN)
    await mutate(client, DOCS, headers=AUTH)
    assert (await client.get(f"{API}/doc/production/p1")).status_code == 401
    query = await client.get(f"{API}/query/production", params={"query": "*"})
    assert query.status_code == 401


async def test_import_and_export_commands_take_a_dataset(tmp_path: Path, capsys) -> None:
    source = tmp_path / "in.ndjson"
    source.write_text('{"_id": "p1", "_type": "product"}\n', encoding="utf-8")
    lake_file = tmp_path / "lake.sqlite3"

    where = ["--data", str(lake_file), "--dataset", "staging"]
    assert main(["lake", "import", str(source), *where]) == 0
    async with Lake(lake_file, dataset="staging") as staging, Lake(lake_file) as production:
        assert (await staging.get_documents(["p1"]))[0] is not None
        assert (await production.get_documents(["p1"])) == [None]

    out = tmp_path / "out.ndjson"
    assert main(["lake", "export", str(out), *where]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["_id"] == "p1"
    assert "staging" in capsys.readouterr().out


def test_an_import_error_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    source = tmp_path / "in.ndjson"
    source.write_text('{"_id": "ok", "_type": "t"}\n{"_id": "bad", "n": 1}\n', encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.entrypoints.cli.main",
            "lake",
            "import",
            str(source),
            "--data",
            "x.db",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "in.ndjson:2: document 'bad'" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("dataset", ["staging"])
async def test_a_lake_served_as_another_dataset_shows_what_was_imported_into_it(
    tmp_path: Path, dataset: str
) -> None:
    from tests.server.test_serve import running

    source = tmp_path / "in.ndjson"
    source.write_text('{"_id": "p1", "_type": "product"}\n', encoding="utf-8")
    lake_file = tmp_path / "lake.sqlite3"
    main(["lake", "import", str(source), "--data", str(lake_file), "--dataset", dataset])
    async with running(lake_file, dataset=dataset) as client:
        found = await client().get(f"/v2025-02-19/data/doc/{dataset}/p1")
    assert found.json()["documents"][0]["_id"] == "p1"

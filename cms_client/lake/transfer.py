"""Sanity's dataset export format in and out of a lake file: `.ndjson` and `.tar.gz`.

`sanity dataset export` writes one document per line (NDJSON), or a gzipped tarball holding
`<folder>/data.ndjson` beside `assets.json` and the asset files. A tarball's assets come in
with it: files kept beside the lake, asset documents created, `_sanityAsset` fields turned
back into references (`assets.py`); a `.ndjson` file finds asset files next to it the same
way (`./images/...`). Export writes the same layout, with the files the lake holds.

Import is one transaction: the whole file goes in, or nothing does. It keeps `_id`, `_rev`,
`_createdAt` and `_updatedAt` when the file has them (a copy of a real dataset keeps its
revisions), and fills in the missing ones as a transaction would. Every refusal is one line
naming the file, the line and, when known, the document (`TransferError`).
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from cms_client.clock import Clock, format_timestamp, utc_now
from cms_client.errors import BadRequest
from cms_client.lake.assets import (
    ASSET_TYPES,
    AssetProblem,
    ExportedAssets,
    ImportedAssets,
    assets_folder,
)
from cms_client.lake.documents import DocumentProblem, check_id, check_type, random_token
from cms_client.lake.limits import LimitExceeded, check_document
from cms_client.lake.storage import LakeDatabase, dumps

NDJSON = ".ndjson"
TARBALL = ".tar.gz"
DATA_FILE = "data.ndjson"
ASSETS_FILE = "assets.json"


class TransferError(BadRequest):
    """An import or export that cannot go ahead; nothing was written."""


def _kind(file: str | os.PathLike[str]) -> str:
    name = os.fspath(file)
    for suffix in (TARBALL, NDJSON):
        if name.endswith(suffix):
            return suffix
    raise TransferError(f"{name}: expected a file ending in {NDJSON} or {TARBALL}")


def import_dataset(
    lake_path: str | os.PathLike[str],
    file: str | os.PathLike[str],
    *,
    replace: bool = False,
    dataset: str = "production",
    clock: Clock = utc_now,
) -> int:
    """Import a Sanity export into the lake at `lake_path`; returns the documents imported
    (asset documents created for the export's files included).

    Without `replace`, an id that already exists in the lake (or twice in the file) refuses
    the whole import; with it, such documents are replaced.
    """
    kind = _kind(file)
    name = os.fspath(file)
    try:
        with ExitStack() as stack:
            lines, read, metadata = _open_export(stack, file, kind)
            assets = ImportedAssets(assets_folder(lake_path, dataset), read, metadata)
            db = LakeDatabase(lake_path, dataset)
            stack.callback(db.close)
            return _import_lines(db, lines, assets, file=name, replace=replace, clock=clock)
    except TransferError:
        raise
    except UnicodeDecodeError as exc:
        raise TransferError(f"{name}: not UTF-8 text ({exc.reason})") from None
    except (OSError, tarfile.TarError, EOFError, zlib.error) as exc:
        raise TransferError(f"{name}: cannot be read ({exc})") from None
    except sqlite3.Error as exc:
        raise TransferError(f"{os.fspath(lake_path)}: lake database error ({exc})") from None


def export_dataset(
    lake_path: str | os.PathLike[str],
    file: str | os.PathLike[str],
    *,
    dataset: str = "production",
) -> int:
    """Write every document of the lake (drafts and versions too) to `file`, by id.

    A `.tar.gz` carries the asset files the lake holds, as Sanity's export does (their
    asset documents become files plus `assets.json`); `.ndjson` keeps every document.
    Returns the lines written to `data.ndjson`.
    """
    kind = _kind(file)
    if not Path(lake_path).exists():
        raise TransferError(f"{os.fspath(lake_path)}: no lake file there")
    target = Path(file)
    db = LakeDatabase(lake_path, dataset)
    assets = ExportedAssets(assets_folder(lake_path, dataset))
    try:
        with tempfile.TemporaryDirectory(dir=target.parent or None) as scratch:
            data = Path(scratch) / DATA_FILE
            with data.open("w", encoding="utf-8") as out, db.snapshot():
                if kind == TARBALL:
                    asset_ids = [row[0] for row in db.listing(list(ASSET_TYPES.values()))]
                    for _seq, asset in db.bodies(asset_ids).values():
                        assets.take(json.loads(asset))
                count = 0
                for body in db.all_bodies():
                    if assets.markers:
                        document = json.loads(body)
                        if document.get("_id") in assets.markers:
                            continue
                        body = dumps(assets.rewrite(document))
                    out.write(body)
                    out.write("\n")
                    count += 1
            partial = Path(scratch) / "partial"
            if kind == NDJSON:
                data.rename(partial)
            else:
                _write_tarball(partial, data, assets, folder=_folder_name(target))
            # Whole file or nothing: a reader never sees a half-written export.
            os.replace(partial, target)
    finally:
        db.close()
    return count


def _folder_name(target: Path) -> str:
    return target.name[: -len(TARBALL)] or "export"


def _write_tarball(path: Path, data: Path, assets: ExportedAssets, *, folder: str) -> None:
    metadata = json.dumps(assets.metadata, ensure_ascii=False).encode()
    with tarfile.open(path, "w:gz") as tar:
        tar.add(data, arcname=f"{folder}/{DATA_FILE}")
        info = tarfile.TarInfo(f"{folder}/{ASSETS_FILE}")
        info.size = len(metadata)
        tar.addfile(info, io.BytesIO(metadata))
        for relative, source in sorted(assets.files.items()):
            tar.add(source, arcname=f"{folder}/{relative}")


Lines = Iterator[tuple[int, str]]
Reader = Callable[[str], bytes | None]


def _open_export(
    stack: ExitStack, file: str | os.PathLike[str], kind: str
) -> tuple[Lines, Reader, dict[str, dict[str, Any]]]:
    """The export's numbered NDJSON lines, a reader of its asset files, and `assets.json`."""
    if kind == NDJSON:
        text: IO[str] = stack.enter_context(open(file, encoding="utf-8"))  # noqa: SIM115 (the stack closes it)
        base = Path(file).parent

        def read_beside(relative: str) -> bytes | None:
            path = base / relative
            return path.read_bytes() if path.is_file() else None

        return enumerate(text, start=1), read_beside, {}
    tar = stack.enter_context(tarfile.open(file, "r:gz"))  # noqa: SIM115 (the stack closes it)
    member = _data_member(tar, file)
    raw = tar.extractfile(member)
    if raw is None:
        raise TransferError(f"{os.fspath(file)}: {member.name} is not a file")
    folder = member.name[: -len(DATA_FILE)]
    files = {m.name: m for m in tar.getmembers() if m.isfile()}

    def read_member(relative: str) -> bytes | None:
        found = files.get(folder + relative)
        handle = tar.extractfile(found) if found is not None else None
        return handle.read() if handle is not None else None

    metadata: dict[str, dict[str, Any]] = {}
    listed = read_member(ASSETS_FILE)
    if listed:
        try:
            parsed = json.loads(listed)
        except ValueError:
            raise TransferError(f"{os.fspath(file)}: {ASSETS_FILE} is not valid JSON") from None
        if isinstance(parsed, dict):
            metadata = {k: v for k, v in parsed.items() if isinstance(v, dict)}
    text = stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8"))
    return enumerate(text, start=1), read_member, metadata


def _data_member(tar: tarfile.TarFile, file: str | os.PathLike[str]) -> tarfile.TarInfo:
    candidates = [
        member
        for member in tar.getmembers()
        if member.isfile() and (member.name == DATA_FILE or member.name.endswith("/" + DATA_FILE))
    ]
    if not candidates:
        raise TransferError(f"{os.fspath(file)}: no {DATA_FILE} in the archive")
    return min(candidates, key=lambda member: member.name.count("/"))


def _import_lines(
    db: LakeDatabase,
    lines: Lines,
    assets: ImportedAssets,
    *,
    file: str,
    replace: bool,
    clock: Clock,
) -> int:
    timestamp = format_timestamp(clock())
    count = 0
    seen: set[str] = set()
    first_use: dict[str, str] = {}
    with db.write():
        revision = random_token()
        while db.transaction_exists(revision):
            revision = random_token()
        seq = db.record_transaction(revision, timestamp)

        def store(document: dict[str, Any], where: str) -> None:
            doc_id = document["_id"]
            if doc_id in seen and not replace:
                raise TransferError(f"{where}: document {doc_id!r} appears twice")
            seen.add(doc_id)
            try:
                db.put(document, seq, replace=replace)
            except sqlite3.IntegrityError:
                raise TransferError(
                    f"{where}: document {doc_id!r} already exists in the lake "
                    "(import with replace to overwrite it)"
                ) from None
            except ValueError as exc:
                raise TransferError(
                    f"{where}: document {doc_id!r} is not storable as JSON ({exc})"
                ) from None

        for number, line in lines:
            if not line.strip():
                continue
            where = f"{file}:{number}"
            document = _document(line, where, revision=revision, now=timestamp)
            unresolved = set(assets.missing)
            try:
                document = assets.resolve(document)
            except AssetProblem as exc:
                raise TransferError(f"{where}: document {document['_id']!r}: {exc}") from None
            for asset_id in assets.missing.keys() - unresolved:
                first_use[asset_id] = f"{where}: document {document['_id']!r}"
            store(document, where)
            count += 1
        stored = db.bodies([asset_id for asset_id in assets.missing if asset_id not in seen])
        for asset_id, relative in assets.missing.items():
            if asset_id not in seen and asset_id not in stored:
                raise TransferError(
                    f"{first_use[asset_id]}: asset file {relative} is not in the export "
                    f"and no {asset_id!r} document is"
                )
        for asset_id, asset in assets.documents.items():
            if asset_id in seen:
                continue  # the data holds this asset document itself; it wins
            asset.update({"_rev": revision, "_createdAt": timestamp, "_updatedAt": timestamp})
            store(asset, f"{file}: asset {asset_id}")
            count += 1
    return count


def _document(line: str, where: str, *, revision: str, now: str) -> dict[str, Any]:
    try:
        document = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TransferError(f"{where}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise TransferError(f"{where}: nested too deeply to read") from None
    if not isinstance(document, dict):
        raise TransferError(f"{where}: a document must be a JSON object")
    if document.get("_id") in (None, ""):
        document["_id"] = random_token()
    doc_id = document["_id"]
    named = f"{where}: document {doc_id!r}" if isinstance(doc_id, str) else where
    try:
        check_id(doc_id)
        check_type(document)
        check_document(document)
    except (DocumentProblem, LimitExceeded) as exc:
        raise TransferError(f"{named}: {exc.description}") from None
    for field, default in (("_rev", revision), ("_createdAt", now), ("_updatedAt", now)):
        if not isinstance(document.get(field), str) or not document[field]:
            document[field] = default
    return document

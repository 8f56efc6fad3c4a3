"""Sanity's dataset export format in and out of a lake file: `.ndjson` and `.tar.gz`.

`sanity dataset export` writes one document per line (NDJSON), or a gzipped tarball holding
`<folder>/data.ndjson` beside `assets.json` and the asset files. Assets are not documents of
the lake: import reads only `data.ndjson` and keeps asset fields (`_sanityAsset`, ...) as
they are; export writes the same layout with an empty `assets.json`.

Import is one transaction: the whole file goes in, or nothing does. It keeps `_id`, `_rev`,
`_createdAt` and `_updatedAt` when the file has them (a copy of a real dataset keeps its
revisions), and fills in the missing ones as a transaction would.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from cms_client.clock import Clock, format_timestamp, utc_now
from cms_client.errors import BadRequest
from cms_client.lake.documents import DocumentProblem, check_id, check_type, random_token
from cms_client.lake.storage import LakeDatabase

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
    """Import a Sanity export into the lake at `lake_path`; returns the documents imported.

    Without `replace`, an id that already exists in the lake (or twice in the file) refuses
    the whole import; with it, such documents are replaced.
    """
    kind = _kind(file)
    db = LakeDatabase(lake_path, dataset)
    try:
        with _numbered_lines(file, kind) as lines:
            return _import_lines(db, lines, file=os.fspath(file), replace=replace, clock=clock)
    finally:
        db.close()


def export_dataset(
    lake_path: str | os.PathLike[str],
    file: str | os.PathLike[str],
    *,
    dataset: str = "production",
) -> int:
    """Write every document of the lake (drafts and versions too) to `file`, by id."""
    kind = _kind(file)
    if not Path(lake_path).exists():
        raise TransferError(f"{os.fspath(lake_path)}: no lake file there")
    target = Path(file)
    db = LakeDatabase(lake_path, dataset)
    try:
        with tempfile.TemporaryDirectory(dir=target.parent or None) as scratch:
            data = Path(scratch) / DATA_FILE
            with data.open("w", encoding="utf-8") as out, db.snapshot():
                count = 0
                for body in db.all_bodies():
                    out.write(body)
                    out.write("\n")
                    count += 1
            partial = Path(scratch) / "partial"
            if kind == NDJSON:
                data.rename(partial)
            else:
                _write_tarball(partial, data, folder=_folder_name(target))
            # Whole file or nothing: a reader never sees a half-written export.
            os.replace(partial, target)
    finally:
        db.close()
    return count


def _folder_name(target: Path) -> str:
    return target.name[: -len(TARBALL)] or "export"


def _write_tarball(path: Path, data: Path, *, folder: str) -> None:
    assets = json.dumps({}).encode()
    with tarfile.open(path, "w:gz") as tar:
        tar.add(data, arcname=f"{folder}/{DATA_FILE}")
        info = tarfile.TarInfo(f"{folder}/{ASSETS_FILE}")
        info.size = len(assets)
        tar.addfile(info, io.BytesIO(assets))


@contextmanager
def _numbered_lines(file: str | os.PathLike[str], kind: str) -> Iterator[Iterator[tuple[int, str]]]:
    """Numbered lines of the export's NDJSON, from a plain file or from inside a tarball."""
    with ExitStack() as stack:
        if kind == NDJSON:
            text: IO[str] = stack.enter_context(open(file, encoding="utf-8"))
        else:
            tar = stack.enter_context(tarfile.open(file, "r:gz"))
            member = _data_member(tar, file)
            raw = tar.extractfile(member)
            if raw is None:
                raise TransferError(f"{os.fspath(file)}: {member.name} is not a file")
            text = stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8"))
        yield enumerate(text, start=1)


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
    lines: Iterator[tuple[int, str]],
    *,
    file: str,
    replace: bool,
    clock: Clock,
) -> int:
    timestamp = format_timestamp(clock())
    count = 0
    seen: set[str] = set()
    with db.write():
        revision = random_token()
        while db.transaction_exists(revision):
            revision = random_token()
        seq = db.record_transaction(revision, timestamp)
        for number, line in lines:
            if not line.strip():
                continue
            document = _document(line, number, file=file, revision=revision, now=timestamp)
            doc_id = document["_id"]
            if doc_id in seen and not replace:
                raise TransferError(f"{file}:{number}: document {doc_id!r} appears twice")
            seen.add(doc_id)
            try:
                db.put(document, seq, replace=replace)
            except sqlite3.IntegrityError:
                raise TransferError(
                    f"{file}:{number}: document {doc_id!r} already exists in the lake "
                    "(import with replace to overwrite it)"
                ) from None
            except ValueError as exc:
                raise TransferError(f"{file}:{number}: not storable as JSON ({exc})") from None
            count += 1
    return count


def _document(line: str, number: int, *, file: str, revision: str, now: str) -> dict[str, Any]:
    try:
        document = json.loads(line)
    except json.JSONDecodeError as exc:
        raise TransferError(f"{file}:{number}: not valid JSON ({exc.msg})") from None
    if not isinstance(document, dict):
        raise TransferError(f"{file}:{number}: a document must be a JSON object")
    if document.get("_id") in (None, ""):
        document["_id"] = random_token()
    try:
        check_id(document["_id"])
        check_type(document)
    except DocumentProblem as exc:
        raise TransferError(f"{file}:{number}: {exc.description}") from None
    for field, default in (("_rev", revision), ("_createdAt", now), ("_updatedAt", now)):
        if not isinstance(document.get(field), str) or not document[field]:
            document[field] = default
    return document

"""Assets in Sanity's export format, and their files kept on disk beside the lake.

`sanity dataset export` leaves the asset documents (`sanity.imageAsset`, `sanity.fileAsset`)
out of `data.ndjson`; it puts their files in the archive (`images/<sha1>-<w>x<h>.<ext>`,
`files/<sha1>.<ext>`, named after the asset id), their extra fields (original file name,
metadata) in `assets.json` under `<type>-<sha1>`, and rewrites every field that referenced
one into `{"_sanityAsset": "image@file://./images/<file>", ...rest}`. `sanity dataset
import` does the reverse by uploading each file.

The lake does that reverse locally: each file is copied to `<lake file>.assets/<dataset>/`,
an asset document is created for it (unless the data already holds one by that id), and
each `_sanityAsset` field becomes `{"asset": {"_type": "reference", "_ref": <asset id>},
...rest}`. Export does the forward direction for assets whose file the lake holds.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

ASSET_TYPES = {"image": "sanity.imageAsset", "file": "sanity.fileAsset"}
_ASSET_VALUE = re.compile(r"^(file|image)@file://\./((?:images|files)/[^/]+)$")
_IMAGE_ID = re.compile(r"^image-([A-Za-z0-9]+)-(\d+)x(\d+)-([a-z0-9]+)$")
_FILE_ID = re.compile(r"^file-([A-Za-z0-9]+)-([a-z0-9]+)$")
#: Fields of an asset document that Sanity's export leaves out of `assets.json`.
_DERIVED_FIELDS = {"_id", "_type", "assetId", "extension", "mimeType", "path", "url"}


class AssetProblem(Exception):
    """An asset reference or file the import cannot use."""


def assets_folder(lake_path: str | os.PathLike[str], dataset: str) -> Path:
    """Where the lake keeps the asset files of `dataset`."""
    return Path(f"{os.fspath(lake_path)}.assets") / dataset


def asset_id_for(kind: str, name: str) -> str:
    """The asset id an exported file name stands for (the inverse of Sanity's naming)."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not extension:
        raise AssetProblem(f"asset file {name!r} has no extension")
    return f"{kind}-{stem}-{extension.lower()}"


def file_name_for(asset_id: str) -> tuple[str, str] | None:
    """`(kind, file name)` Sanity's export gives the file of `asset_id`, or None."""
    image = _IMAGE_ID.match(asset_id)
    if image:
        return "image", f"{image[1]}-{image[2]}x{image[3]}.{image[4]}"
    file = _FILE_ID.match(asset_id)
    if file:
        return "file", f"{file[1]}.{file[2]}"
    return None


class ImportedAssets:
    """The assets of one import: files copied, asset documents to create.

    `read(relative)` gives the bytes of `images/<name>` or `files/<name>` from the export
    (None when absent); `metadata` is `assets.json`.
    """

    def __init__(
        self,
        folder: Path,
        read: Callable[[str], bytes | None],
        metadata: dict[str, dict[str, Any]],
    ) -> None:
        self.folder = folder
        self.read = read
        self.metadata = metadata
        #: asset id -> the asset document to create.
        self.documents: dict[str, dict[str, Any]] = {}
        #: asset id -> the export's name for a file it lacks; fine only if the asset
        #: document itself is in the data or already in the lake.
        self.missing: dict[str, str] = {}

    def resolve(self, document: dict[str, Any]) -> dict[str, Any]:
        """`document` with its `_sanityAsset` fields turned into asset references."""
        resolved = self._walk(document)
        assert isinstance(resolved, dict)
        return resolved

    def _walk(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._walk(item) for item in value]
        if not isinstance(value, dict):
            return value
        walked = {key: self._walk(item) for key, item in value.items()}
        marker = walked.get("_sanityAsset")
        if isinstance(marker, str):
            asset_id = self._asset(marker)
            del walked["_sanityAsset"]
            walked["asset"] = {"_type": "reference", "_ref": asset_id}
        return walked

    def _asset(self, marker: str) -> str:
        match = _ASSET_VALUE.match(marker)
        if match is None:
            raise AssetProblem(
                f"asset reference {marker!r} is not of the form "
                "image@file://./images/<file> or file@file://./files/<file>"
            )
        kind, relative = match[1], match[2]
        name = relative.split("/", 1)[1]
        asset_id = asset_id_for(kind, name)
        if asset_id in self.documents:
            return asset_id
        if asset_id in self.missing:
            return asset_id
        content = self.read(relative)
        if content is None:
            self.missing[asset_id] = relative
            return asset_id
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(content)
            os.replace(partial, target)
        self.documents[asset_id] = self._document(kind, asset_id, name, content, target)
        return asset_id

    def _document(
        self, kind: str, asset_id: str, name: str, content: bytes, target: Path
    ) -> dict[str, Any]:
        sha1 = hashlib.sha1(content).hexdigest()
        extension = name.rpartition(".")[2].lower()
        document: dict[str, Any] = {
            "_id": asset_id,
            "_type": ASSET_TYPES[kind],
            "assetId": asset_id.split("-")[1],
            "extension": extension,
            "mimeType": mimetypes.guess_type(name)[0] or "application/octet-stream",
            "originalFilename": name,
            "path": f"{kind}s/{self.folder.name}/{name}",
            "sha1hash": sha1,
            "size": len(content),
            "url": target.resolve().as_uri(),
        }
        image = _IMAGE_ID.match(asset_id)
        if image:
            width, height = int(image[2]), int(image[3])
            document["metadata"] = {
                "_type": "sanity.imageMetadata",
                "dimensions": {
                    "_type": "sanity.imageDimensions",
                    "width": width,
                    "height": height,
                    "aspectRatio": width / height if height else None,
                },
            }
        # Sanity's export keys the extra fields by `<type>-<sha1>` (of the asset id).
        extra = self.metadata.get(f"{kind}-{document['assetId']}", {})
        document.update({key: value for key, value in extra.items() if key not in _DERIVED_FIELDS})
        return document


class ExportedAssets:
    """Export's side: asset documents whose files the lake holds go out as files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        #: `images/<name>` -> file on disk, for the archive.
        self.files: dict[str, Path] = {}
        self.metadata: dict[str, dict[str, Any]] = {}
        #: asset id -> `image@file://./images/<name>`.
        self.markers: dict[str, str] = {}

    def take(self, document: dict[str, Any]) -> bool:
        """Keep `document` as a file if it is an asset the lake holds; True when taken."""
        if document.get("_type") not in ASSET_TYPES.values():
            return False
        named = file_name_for(str(document.get("_id", "")))
        if named is None:
            return False
        kind, name = named
        relative = f"{kind}s/{name}"
        source = self.folder / relative
        if not source.is_file():
            return False
        self.files[relative] = source
        self.markers[document["_id"]] = f"{kind}@file://./{relative}"
        extra = {k: v for k, v in document.items() if k not in _DERIVED_FIELDS}
        if extra:
            self.metadata[f"{kind}-{document['_id'].split('-')[1]}"] = extra
        return True

    def rewrite(self, value: Any) -> Any:
        """`value` with references to taken assets as `_sanityAsset` fields."""
        if isinstance(value, list):
            return [self.rewrite(item) for item in value]
        if not isinstance(value, dict):
            return value
        asset = value.get("asset")
        if isinstance(asset, dict) and asset.get("_ref") in self.markers:
            rest = {k: self.rewrite(v) for k, v in value.items() if k != "asset"}
            return {"_sanityAsset": self.markers[asset["_ref"]], **rest}
        return {key: self.rewrite(item) for key, item in value.items()}

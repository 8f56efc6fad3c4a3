"""Sanity document id rules and the `drafts.` / `versions.` naming scheme."""

from __future__ import annotations

import functools
import re

DRAFTS_PREFIX = "drafts."
VERSIONS_PREFIX = "versions."
MAX_ID_LENGTH = 128

_ID_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")


def id_problem(doc_id: str) -> str | None:
    """Why `doc_id` is not a valid Sanity document id, or None when it is."""
    if not isinstance(doc_id, str) or not doc_id:
        return "document id must be a non-empty string"
    return _string_id_problem(doc_id)


# Every read and write checks its ids, and a shop touches the same few thousand again and
# again: a dict lookup instead of a regex and four splits (`bench.lake_throughput`).
@functools.lru_cache(maxsize=8192)
def _string_id_problem(doc_id: str) -> str | None:
    if len(doc_id) > MAX_ID_LENGTH:
        return f"document id is longer than {MAX_ID_LENGTH} characters"
    if not _ID_CHARS.match(doc_id):
        return "document id may only contain a-z, A-Z, 0-9, '.', '_' and '-'"
    if ".." in doc_id:
        return "document id may not contain '..'"
    if doc_id.startswith("-") or any(part.startswith("-") for part in doc_id.split(".")):
        return "document id segments may not start with '-'"
    if doc_id.startswith(".") or doc_id.endswith("."):
        return "document id may not start or end with '.'"
    parts = doc_id.split(".")
    if "versions" in parts[1:]:
        return "'versions' is only allowed as the first segment of a document id"
    if parts[0] == "versions" and len(parts) < 3:
        return "a versions. id needs a release name and a document id"
    return None


def published_id(doc_id: str) -> str:
    """The published document a draft or release version belongs to (itself when published)."""
    if doc_id.startswith(DRAFTS_PREFIX):
        return doc_id[len(DRAFTS_PREFIX) :]
    if doc_id.startswith(VERSIONS_PREFIX):
        return doc_id.split(".", 2)[2]
    return doc_id


def draft_id(doc_id: str) -> str:
    return DRAFTS_PREFIX + published_id(doc_id)


def is_draft(doc_id: str) -> bool:
    return doc_id.startswith(DRAFTS_PREFIX)


def is_version(doc_id: str) -> bool:
    return doc_id.startswith(VERSIONS_PREFIX)


def is_published(doc_id: str) -> bool:
    return not (is_draft(doc_id) or is_version(doc_id))

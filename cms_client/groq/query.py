"""`parse` and `evaluate`: the engine's public entry points."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from cms_client.errors import QueryError
from cms_client.groq import nodes
from cms_client.groq.compiled import ROOT_SCOPE
from cms_client.groq.compiler import Compiler
from cms_client.groq.errors import syntax_error
from cms_client.groq.parser import parse_expression
from cms_client.groq.source import DocumentSource
from cms_client.groq.values import from_json, to_json


@dataclass(frozen=True, slots=True)
class GroqQuery:
    """A parsed query: immutable, reusable with any source, parameters and time."""

    text: str
    tree: nodes.Node


def parse(query: str) -> GroqQuery:
    """Parse `query`, refusing syntax errors and constructs outside the subset.

    Raises `QueryError` with the message, `position` (character offset) and, for an
    unsupported construct, `construct`.
    """
    if not isinstance(query, str):
        raise TypeError(f"a GROQ query is a string, not {type(query).__name__}")
    return _parse_cached(query)


@lru_cache(maxsize=512)
def _parse_cached(query: str) -> GroqQuery:
    try:
        return GroqQuery(query, parse_expression(query))
    except RecursionError:
        raise syntax_error(query, 0, "the query is nested too deeply") from None


def evaluate(
    query: GroqQuery | str,
    source: DocumentSource,
    params: Mapping[str, Any] | None = None,
    *,
    now: datetime,
    identity: str = "me",
) -> Any:
    """Run `query` over `source` and return a JSON-ready result.

    `params` are the query's `$name` values (JSON; a leading `$` in a key is ignored).
    `now` is what `now()` and `dateTime::now()` answer; a naive datetime is taken as UTC.
    `identity` is what `identity()` answers (groq-js's default, "me", when not given).
    """
    parsed = parse(query) if isinstance(query, str) else query
    compiler = Compiler(
        parsed.text, source, _clean_params(parsed.text, params), _utc(now), identity
    )
    try:
        program = compiler.compile(parsed.tree)
        result = program.fn(ROOT_SCOPE)
        return to_json(result) if compiler.makes_special_values else result
    except RecursionError:
        raise QueryError(
            "GROQ query or documents nested too deeply to evaluate", query=parsed.text
        ) from None


def _clean_params(query: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in (params or {}).items():
        name = key[1:] if key.startswith("$") else key
        try:
            clean[name] = from_json(value, f"${name}")
        except TypeError as exc:
            raise QueryError(f"invalid GROQ parameter: {exc}", query=query) from exc
    return clean


def _utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)

"""Shared test doubles for the SanityClient tests: settings, fake time, Sanity's bodies."""

from __future__ import annotations

from typing import Any

from cms_client.sanity_settings import SanitySettings

PROJECT = "proj1"
API = f"https://{PROJECT}.api.sanity.io/v2025-02-19/data"
TOKEN = "sk-test-token"


class FakeTime:
    """Monotonic time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_settings(**overrides: Any) -> SanitySettings:
    values: dict[str, Any] = {"project_id": PROJECT, "api_token": TOKEN}
    values.update(overrides)
    return SanitySettings(**values)


# Bodies exactly as the reference notes record them (sanity-content-lake.md 2.2, 2.4).
def revision_mismatch_body(doc_id: str, current: str, given: str, index: int = 0) -> dict[str, Any]:
    return {
        "error": {
            "type": "mutationError",
            "description": (
                f'Mutation failed: Document "{doc_id}" has unexpected revision ID '
                f'("{current}"), expected "{given}"'
            ),
            "items": [
                {
                    "index": index,
                    "error": {
                        "type": "documentRevisionIDDoesNotMatchError",
                        "description": f'Document "{doc_id}" has unexpected revision ID (...)',
                        "currentRevisionID": current,
                        "expectedRevisionID": given,
                    },
                }
            ],
        }
    }


def already_exists_body(doc_id: str, index: int = 0) -> dict[str, Any]:
    return {
        "error": {
            "type": "mutationError",
            "description": f'Mutation failed: Document by ID "{doc_id}" already exists',
            "items": [
                {
                    "index": index,
                    "error": {
                        "type": "documentAlreadyExistsError",
                        "description": f'Document by ID "{doc_id}" already exists',
                        "id": doc_id,
                    },
                }
            ],
        }
    }


def query_parse_error_body() -> dict[str, Any]:
    # The shape @sanity/client's own tests replay for a malformed query.
    return {
        "error": {
            "description": 'unexpected token "\\"event]", expected expression',
            "end": 18,
            "query": '*[_type == "event]',
            "start": 11,
            "type": "queryParseError",
        }
    }

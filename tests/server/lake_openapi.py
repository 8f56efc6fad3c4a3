"""An OpenAPI description of the lake server's HTTP API, for schemathesis.

The lake serves a subset of Sanity's Content Lake HTTP API, and Sanity publishes no OpenAPI
document for it, so this one is written from the reference notes
(/work/shared/reference/sanity-content-lake.md, sections 1.5, 1.6, 2.1-2.7 and 4): the same
paths, query-string options, body shapes and statuses. It describes what a caller may send;
it is not a contract the lake's answers are checked against field by field (the fuzz test
checks statuses, the content type and Sanity's error shapes).

Left out: `/data/listen` (a stream that stays open until the client leaves; its refusals are
covered by tests/server/test_listen.py).
"""

from __future__ import annotations

from typing import Any

#: Any JSON value: what Studios, scripts and strangers put in a document or a parameter.
ANY: dict[str, Any] = {}

_ERROR = {
    "description": "Sanity's error shapes: `{error: {type, description}}` from the Content "
    "Lake, `{statusCode, error, message}` from the gateway.",
    "content": {
        "application/json": {
            "schema": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["error"],
                        "properties": {
                            "error": {
                                "type": "object",
                                "required": ["type", "description"],
                            }
                        },
                    },
                    {
                        "type": "object",
                        "required": ["statusCode", "error", "message"],
                    },
                ]
            }
        }
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): _ERROR for status in statuses}


def _path(name: str, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", **schema}}


def _query(name: str, schema: dict[str, Any], *, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema}


_FLAG = {"type": "string", "enum": ["true", "false", "1", "0", ""]}
_PERSPECTIVE = {"type": "string", "enum": ["published", "drafts", "previewDrafts", "raw"]}
#: Versions as the JS client validates them (1, X or a date; anything else is a 400), and
#: the one dataset served (another is a 404): fixed, so that valid requests reach the handlers.
_VERSION = _path("version", enum=["2025-02-19", "2021-10-21", "1", "X"])
_DATASET = _path("dataset", enum=["production"])

_DOCUMENT = {
    "type": "object",
    "properties": {"_id": {"type": "string"}, "_type": {"type": "string"}},
    "additionalProperties": ANY,
}
_SELECTION = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "query": {"type": "string"},
        "params": {"type": "object", "additionalProperties": ANY},
    },
}
_PATCH = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "query": {"type": "string"},
        "params": {"type": "object", "additionalProperties": ANY},
        "ifRevisionID": {"type": "string"},
        "set": {"type": "object", "additionalProperties": ANY},
        "setIfMissing": {"type": "object", "additionalProperties": ANY},
        "unset": {"type": "array", "items": {"type": "string"}},
        "inc": {"type": "object", "additionalProperties": {"type": "number"}},
        "dec": {"type": "object", "additionalProperties": {"type": "number"}},
        "insert": {
            "type": "object",
            "properties": {
                "before": {"type": "string"},
                "after": {"type": "string"},
                "replace": {"type": "string"},
                "items": {"type": "array", "items": ANY},
            },
        },
    },
}
_MUTATION = {
    "oneOf": [
        {
            "type": "object",
            "required": [kind],
            "properties": {kind: schema},
            "additionalProperties": False,
        }
        for kind, schema in [
            ("create", _DOCUMENT),
            ("createIfNotExists", _DOCUMENT),
            ("createOrReplace", _DOCUMENT),
            ("delete", _SELECTION),
            ("patch", _PATCH),
        ]
    ]
}


def lake_openapi() -> dict[str, Any]:
    """The lake server's API as OpenAPI 3.0 (bearer token on every operation)."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "stocksync lake server (Sanity Content Lake subset)", "version": "1"},
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}}},
        "security": [{"token": []}],
        "paths": {
            "/v{version}/data/doc/{dataset}/{ids}": {
                "get": {
                    "operationId": "doc",
                    "parameters": [
                        _VERSION,
                        _DATASET,
                        _path("ids", example="prod-railcam,drafts.prod-railcam"),
                        _query("includeAllVersions", _FLAG),
                        _query("excludeContent", _FLAG),
                        _query("tag", {"type": "string"}),
                    ],
                    "responses": {
                        "200": {
                            "description": "The documents found; the others in `omitted`.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["documents", "omitted"],
                                    }
                                }
                            },
                        },
                        **_errors(400, 401, 404, 429),
                    },
                }
            },
            "/v{version}/data/query/{dataset}": {
                "get": {
                    "operationId": "queryGet",
                    "parameters": [
                        _VERSION,
                        _DATASET,
                        _query("query", {"type": "string"}, required=True),
                        # `$name=<JSON>`: two named parameters stand for any (values are JSON).
                        _query("$id", {"type": "string"}),
                        _query("$n", {"type": "string"}),
                        _query("perspective", _PERSPECTIVE),
                        _query("returnQuery", _FLAG),
                        _query("tag", {"type": "string"}),
                    ],
                    "responses": {
                        "200": {"description": "The result.", "content": _RESULT},
                        **_errors(400, 401, 404, 408, 413, 414, 429),
                    },
                },
                "post": {
                    "operationId": "queryPost",
                    "parameters": [
                        _VERSION,
                        _DATASET,
                        _query("perspective", _PERSPECTIVE),
                        _query("returnQuery", _FLAG),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["query"],
                                    "properties": {
                                        "query": {"type": "string"},
                                        "params": {"type": "object", "additionalProperties": ANY},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {"description": "The result.", "content": _RESULT},
                        **_errors(400, 401, 404, 408, 413, 429),
                    },
                },
            },
            "/v{version}/data/mutate/{dataset}": {
                "post": {
                    "operationId": "mutate",
                    "parameters": [
                        _VERSION,
                        _DATASET,
                        _query("returnIds", _FLAG),
                        _query("returnDocuments", _FLAG),
                        _query(
                            "visibility",
                            {"type": "string", "enum": ["sync", "async", "deferred"]},
                        ),
                        _query("dryRun", _FLAG),
                        _query("autoGenerateArrayKeys", _FLAG),
                        _query("transactionId", {"type": "string"}),
                        _query("tag", {"type": "string"}),
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["mutations"],
                                    "properties": {
                                        "mutations": {"type": "array", "items": _MUTATION},
                                        "transactionId": {"type": "string"},
                                        "dryRun": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The transaction and what each mutation did.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["transactionId", "results"],
                                    }
                                }
                            },
                        },
                        **_errors(400, 401, 404, 409, 413, 429),
                    },
                }
            },
            "/v{version}/data/export/{dataset}": {
                "get": {
                    "operationId": "export",
                    "parameters": [_VERSION, _DATASET],
                    "responses": {
                        "200": {
                            "description": "Every document, one JSON object a line.",
                            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                        },
                        **_errors(400, 401, 404, 429),
                    },
                }
            },
        },
    }


_RESULT: dict[str, Any] = {
    "application/json": {"schema": {"type": "object", "required": ["result", "ms"]}}
}

"""Entrypoints: the HTTP API, the staff console and the CLI translate requests into engine
operations and results into answers. Shared: `auth` (who may call what), `errors` (the one
error body), `context` (what a request handler can reach)."""

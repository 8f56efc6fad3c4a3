"""`GET /`: a small page saying what runs here, with links to the console and the docs.

Someone who opens the service's address in a browser (a newcomer after `serve --demo`, an
operator after a deploy) lands somewhere useful instead of a 404 JSON body. It shows no
data and needs no key; storefronts never call it.
"""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter()

LINKS = (
    (
        "/console",
        "Staff console",
        "stock, holds, the ledger and error logs (sign in with a staff key)",
    ),
    ("/docs", "API docs", "every route, tried from the browser (Swagger UI)"),
    ("/redoc", "API reference", "the same, as a reference (ReDoc)"),
    ("/openapi.json", "OpenAPI schema", "for client generators"),
    ("/api/health", "Health", "liveness"),
    ("/api/inventory-health", "Inventory health", "holds, errors and oversold products"),
)


@router.get("/", include_in_schema=False)
async def landing(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    version = escape(str(request.app.version))
    items = "\n".join(
        f'    <li><a href="{root}{path}">{title}</a> — {escape(text)}</li>'
        for path, title, text in LINKS
    )
    page = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>stocksync</title>
  <style>
    body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto;
           padding: 0 1rem; color: #1f2328; }}
    li {{ margin: .4rem 0; }}
    code {{ background: #f3f4f6; padding: 0 .25rem; border-radius: 3px; }}
  </style>
</head>
<body>
  <h1>stocksync <small>{version}</small></h1>
  <p>Stock reservations, payments and refunds on Sanity product documents. This is the
  service's address; storefronts call its <code>/api/…</code> routes.</p>
  <ul>
{items}
  </ul>
</body>
</html>
"""
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})

"""`/docs` and `/redoc` work with the network off: every asset they load is served by the app.

(The same pages rendered in a real browser with every outside request refused:
tests/console/test_browser.py::test_the_api_docs_render_with_the_network_off.)
"""

from __future__ import annotations

import re
import socket
from typing import Any

import httpx
import pytest

#: src/href attributes, and the URLs the pages' scripts fetch (Swagger UI's `url:`,
#: ReDoc's `spec-url`).
REFERENCE = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|\burl:\s*['"]([^'"]+)['"]""")


@pytest.fixture(autouse=True)
def network_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """No socket may connect anywhere and no name resolves (ASGI calls need neither)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(html)]


@pytest.mark.parametrize(
    ("page", "needed"),
    [
        ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "openapi.json"}),
        ("/redoc", {"redoc.standalone.js", "openapi.json"}),
    ],
)
async def test_the_docs_pages_load_only_what_the_app_serves(
    client: httpx.AsyncClient, page: str, needed: set[str]
) -> None:
    answer = await client.get(page)
    assert answer.status_code == 200
    urls = references(answer.text)
    assert needed <= {url.rsplit("/", 1)[-1] for url in urls}, urls
    assert "fonts.googleapis" not in answer.text
    # The browser itself refuses anything from another origin.
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{page} loads {url} from outside"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    scripts = [url for url in urls if url.endswith(".js")]
    for url in scripts:
        assert (
            (await client.get(url))
            .headers["content-type"]
            .startswith(("text/javascript", "application/javascript"))
        )


async def test_an_asset_that_does_not_exist_is_a_plain_404(client: httpx.AsyncClient) -> None:
    answer = await client.get("/docs-assets/nothing-here.js")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"

"""The demo tells the whole story across restarts: stable keys and sign-ins, curls that work
at every start, the port checked first, `--reset`, `GET /`, and `stocksync demo checkout`
(reserve, a signed Stripe payment, a refund) run from the demo's folder with no setup."""

from __future__ import annotations

import json
import re
import shlex
import socket
import stat
from pathlib import Path

import httpx
import pytest

from tests.support.demo_process import DemoServer, cli, free_port, running_demo

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def printed_curls(output: list[str]) -> list[list[str]]:
    return [shlex.split(line.strip()) for line in output if line.strip().startswith("curl ")]


def run_curl(words: list[str]) -> httpx.Response:
    """What `curl` would send, sent with httpx (the banner's curls use -X, -H and -d only)."""
    method, headers, body, url = "GET", {}, None, ""
    rest = iter(words[1:])
    for word in rest:
        if word == "-s":
            continue
        if word == "-X":
            method = next(rest)
        elif word == "-H":
            name, _, value = next(rest).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            body = next(rest)
            method = "POST" if method == "GET" else method
        else:
            url = word
    return httpx.request(method, url, headers=headers, content=body, timeout=10)


def sign_in(server: DemoServer, client: httpx.Client) -> None:
    page = client.get(f"{server.base_url}/console/sign-in")
    found = CSRF.search(page.text)
    assert found, page.text
    answer = client.post(
        f"{server.base_url}/console/sign-in",
        data={"csrf": found.group(1), "key": server.manager_key, "next": "/console"},
    )
    assert answer.status_code == 303, answer.text


def test_keys_sign_ins_and_the_printed_curls_survive_a_restart(tmp_path: Path) -> None:
    port = free_port()
    console = httpx.Client(follow_redirects=False)
    with running_demo(tmp_path, port) as first:
        sign_in(first, console)
        assert console.get(f"{first.base_url}/console").status_code == 200
        reserve, release = (c for c in printed_curls(first.output) if "-X" in c)
        assert run_curl(reserve).status_code == 200
        assert run_curl(release).status_code == 200
    secrets = tmp_path / "data" / "demo-secrets.json"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600

    with running_demo(tmp_path, port) as second:
        assert "as you left it" in "\n".join(second.output)
        assert (second.storefront_key, second.manager_key, second.admin_key) == (
            first.storefront_key,
            first.manager_key,
            first.admin_key,
        )
        # The same cookie is still a valid sign-in.
        assert console.get(f"{second.base_url}/console").status_code == 200
        reserve, release = (c for c in printed_curls(second.output) if "-X" in c)
        assert reserve != printed_curls(first.output)[1], "a fresh session id per start"
        held = run_curl(reserve)
        assert held.status_code == 200, held.text
        assert run_curl(release).status_code == 200
        history, cleanup = (run_curl(c) for c in printed_curls(second.output)[3:5])
        assert history.status_code == 200 and cleanup.status_code == 200
    console.close()


def test_a_port_in_use_is_refused_before_anything_is_seeded_or_printed(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        answer = cli(tmp_path, "serve", "--demo", "--port", str(port))
    assert answer.returncode == 2
    assert f"127.0.0.1:{port}" in answer.stderr and "--port" in answer.stderr
    assert answer.stdout == ""
    assert not (tmp_path / "data").exists()


def test_reset_seeds_the_catalogue_afresh_and_keeps_the_keys(tmp_path: Path) -> None:
    port = free_port()
    with running_demo(tmp_path, port) as first:
        headers = {"X-API-Key": first.admin_key}
        adjusted = httpx.post(
            f"{first.base_url}/api/inventory/adjust",
            json={"productId": "railcam", "setTo": 1, "reason": "damage"},
            headers=headers,
        )
        assert adjusted.status_code == 200, adjusted.text
    with running_demo(tmp_path, port, "--reset") as second:
        assert "Seeded the demo catalogue" in "\n".join(second.output)
        assert second.storefront_key == first.storefront_key
        status = httpx.get(f"{second.base_url}/api/stock-status?productIds=railcam").json()
        assert status["stockStatus"][0]["totalStock"] == 5


def test_reset_without_demo_is_refused(tmp_path: Path) -> None:
    answer = cli(tmp_path, "serve", "--reset", "--port", str(free_port()))
    assert answer.returncode == 2 and "--demo" in answer.stderr


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoServer]:
    folder = tmp_path_factory.mktemp("checkout")
    with running_demo(folder, free_port()) as server:
        yield folder, server


def stock_lines(output: str) -> list[str]:
    return re.findall(r"stock [a-z ]+: .*", output)


def test_demo_checkout_sells_then_refunds_from_the_demos_folder(
    demo: tuple[Path, DemoServer],
) -> None:
    folder, server = demo
    args = ["demo", "checkout", "--url", server.base_url, "--product", "station-hoodie"]
    answer = cli(folder, *args, "--size", "L", "--quantity", "2", "--refund")
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert stock_lines(answer.stdout) == [
        "stock before: Station Hoodie — 4 in stock, 0 reserved, 4 available",
        "stock now: Station Hoodie — 4 in stock, 2 reserved, 2 available",
        "stock after the sale: Station Hoodie — 2 in stock, 0 reserved, 2 available",
        "stock after the refund: Station Hoodie — 4 in stock, 0 reserved, 4 available",
    ]
    assert "checkout.session.completed" in answer.stdout and "charge.refunded" in answer.stdout
    ledger = httpx.get(
        f"{server.base_url}/api/inventory/history/station-hoodie",
        headers={"X-API-Key": server.admin_key},
    ).json()["entries"]
    kinds = [json.dumps(entry) for entry in ledger]
    assert any('"sale"' in k for k in kinds) and any('"refund"' in k for k in kinds)


def test_demo_checkout_without_refund_and_a_sold_out_product(
    demo: tuple[Path, DemoServer],
) -> None:
    folder, server = demo
    sold = cli(folder, "demo", "checkout", "--url", server.base_url, "--product", "railcam")
    assert sold.returncode == 0, sold.stdout + sold.stderr
    assert (
        stock_lines(sold.stdout)[-1]
        == "stock after the sale: Railcam — 4 in stock, 0 reserved, 4 available"
    )
    refused = cli(
        folder, "demo", "checkout", "--url", server.base_url, "--product", "railways-and-sleepers"
    )
    assert refused.returncode == 1
    assert "409" in refused.stdout and "reservation was refused" in refused.stderr


def test_demo_checkout_elsewhere_says_where_the_keys_are(tmp_path: Path) -> None:
    answer = cli(tmp_path, "demo", "checkout", "--url", f"http://127.0.0.1:{free_port()}")
    assert answer.returncode == 1
    assert "demo-secrets.json" in answer.stderr and "serve --demo" in answer.stderr


def test_the_landing_page_leads_to_the_console_and_the_docs(
    demo: tuple[Path, DemoServer],
) -> None:
    _, server = demo
    page = httpx.get(f"{server.base_url}/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', page.text)
    assert {"/console", "/docs", "/redoc"} <= set(links)
    for link in links:
        answer = httpx.get(f"{server.base_url}{link}", follow_redirects=True)
        assert answer.status_code == 200, link
    banner = "\n".join(server.output)
    assert f"Staff console: {server.base_url}/console" in banner
    assert f"sign in with the inventory_manager key: {server.manager_key}" in banner
    assert "stocksync demo checkout" in banner

"""Signing in and out, the session cookie, CSRF tokens, and when the console stays closed."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

import pytest

from tests.entrypoints.console.conftest import ADMIN_KEY, MANAGER_KEY, STAFF, Console, alert, flash
from tests.support.clock import ManualClock


def session_cookie(response: Any) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        if header.startswith("stocksync_console="):
            jar.load(header)
    return jar


async def test_pages_send_a_visitor_without_a_session_to_sign_in_and_back(
    console: Console,
) -> None:
    response = await console.get("/console/products?state=low_stock&q=rail")
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/console/sign-in?next=/console/products%3Fstate%3Dlow_stock%26q%3Drail"
    )
    token = await console.csrf("/console/sign-in")
    signed_in = await console.client.post(
        "/console/sign-in",
        data={"csrf": token, "key": MANAGER_KEY, "next": "/console/products?state=low_stock"},
    )
    assert signed_in.headers["location"] == "/console/products?state=low_stock"
    page = await console.get("/console/products?state=low_stock")
    assert page.status_code == 200 and "mona" in page.text


async def test_the_session_cookie_is_signed_http_only_strict_and_expires(
    console: Console,
) -> None:
    response = await console.sign_in(MANAGER_KEY)
    morsel = session_cookie(response)["stocksync_console"]
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/console"
    assert morsel["max-age"] == str(8 * 3600)
    assert not morsel["secure"]  # plain http in tests; see the https test below
    assert MANAGER_KEY not in response.headers["set-cookie"]


async def test_over_https_the_cookie_is_secure(open_console: Callable[..., Any]) -> None:
    async with open_console(base_url="https://shop.example") as console:
        morsel = session_cookie(await console.sign_in(ADMIN_KEY))["stocksync_console"]
        assert morsel["secure"] is True


async def test_a_wrong_key_is_refused_without_a_session(console: Console) -> None:
    response = await console.sign_in("not-a-key")
    assert response.status_code == 401
    assert "That is not a staff key" in (alert(response.text) or "")
    assert not session_cookie(response)
    assert (await console.get("/console")).status_code == 303


async def test_a_sign_in_post_without_the_forms_token_is_refused(console: Console) -> None:
    response = await console.client.post("/console/sign-in", data={"key": MANAGER_KEY})
    assert response.status_code == 403
    assert not session_cookie(response)


async def test_a_session_ends_when_it_expires(console: Console, clock: ManualClock) -> None:
    await console.sign_in(MANAGER_KEY)
    clock.advance(hours=7, minutes=59)
    assert (await console.get("/console")).status_code == 200
    clock.advance(minutes=2)
    assert (await console.get("/console")).status_code == 303


async def test_a_cookie_altered_to_claim_another_role_is_rejected(console: Console) -> None:
    await console.sign_in("support-key")
    value = console.client.cookies["stocksync_console"]
    body, mac = value.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["r"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    console.client.cookies.set("stocksync_console", f"{forged}.{mac}", path="/console")
    assert (await console.get("/console")).status_code == 303


async def test_sessions_hold_across_instances_and_end_when_the_key_is_rotated(
    open_console: Callable[..., Any],
) -> None:
    async with open_console() as first:
        await first.sign_in(MANAGER_KEY)
        cookie = first.client.cookies["stocksync_console"]
    async with open_console() as second:
        second.client.cookies.set("stocksync_console", cookie, path="/console")
        assert (await second.get("/console")).status_code == 200
    rotated = STAFF.replace(f":{MANAGER_KEY}", ":manager-key-2")
    async with open_console(admin_api_keys=rotated) as third:
        third.client.cookies.set("stocksync_console", cookie, path="/console")
        assert (await third.get("/console")).status_code == 303


async def test_signing_out_ends_the_session(manager: Console) -> None:
    response = await manager.post("/console/sign-out", {})
    assert response.status_code == 303 and response.headers["location"] == "/console/sign-in"
    assert 'stocksync_console=""' in response.headers["set-cookie"]
    page = await manager.get("/console/sign-in")
    assert flash(page.text) == "Signed out."
    assert (await manager.get("/console")).status_code == 303


async def test_sign_out_needs_the_token_too(manager: Console) -> None:
    response = await manager.client.post("/console/sign-out", data={})
    assert response.status_code == 403
    assert (await manager.get("/console")).status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/console", "//evil.example/console", "/api/health"]
)
async def test_after_sign_in_only_console_paths_are_followed(console: Console, target: str) -> None:
    response = await console.sign_in(MANAGER_KEY, next_path=target)
    assert response.headers["location"] == "/console"


async def test_a_form_token_of_another_session_is_refused_and_nothing_changes(
    open_console: Callable[..., Any],
) -> None:
    async with open_console() as other:
        await other.sign_in(ADMIN_KEY)
        foreign = await other.csrf()
    async with open_console() as console:
        await console.sign_in(MANAGER_KEY)
        for token in (foreign, "", None):
            data = {"mode": "set", "amount": "0", "reason": "damage"}
            if token is not None:
                data["csrf"] = token
            response = await console.client.post("/console/products/railcam/adjust", data=data)
            assert response.status_code == 403
            assert "nothing was changed" in response.text
        status = await console.inventory.status(["railcam"])
        assert status.products[0].total == 5


async def test_pages_are_not_cached_framed_or_scripted(manager: Console) -> None:
    response = await manager.get("/console")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert "<script" not in response.text


async def test_without_staff_keys_the_console_is_closed(open_console: Callable[..., Any]) -> None:
    async with open_console(admin_api_keys=None) as console:
        response = await console.get("/console/sign-in")
        assert response.status_code == 503
        assert "ADMIN_API_KEYS" in response.text
        assert response.headers["content-type"].startswith("text/html")


async def test_in_production_the_console_needs_its_secret(
    open_console: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VERCEL", "1")
    async with open_console(console_session_secret=None) as console:
        response = await console.get("/console/sign-in")
        assert response.status_code == 503
        assert "CONSOLE_SESSION_SECRET" in response.text


async def test_a_short_secret_keeps_the_console_closed(open_console: Callable[..., Any]) -> None:
    async with open_console(console_session_secret="short") as console:
        assert (await console.get("/console/sign-in")).status_code == 503


async def test_in_development_a_process_secret_is_made_up(
    open_console: Callable[..., Any],
) -> None:
    async with open_console(console_session_secret=None) as console:
        assert (await console.sign_in(MANAGER_KEY)).status_code == 303
        assert (await console.get("/console")).status_code == 200

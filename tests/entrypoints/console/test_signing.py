"""Signed tokens: a token is accepted only for its own purpose, untouched and unexpired."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.config import Role, StaffKey
from service.entrypoints.console.sessions import (
    csrf_ok,
    csrf_token,
    find_staff_key,
    flash_cookie,
    open_session,
    read_flash,
    read_session,
)
from service.entrypoints.console.signing import Signer

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
SIGNER = Signer(b"0123456789abcdef-test")
MONA = StaffKey("mona", Role.INVENTORY_MANAGER, "key-m")


def test_a_token_round_trips_only_for_its_purpose() -> None:
    token = SIGNER.sign("session", {"n": "mona"})
    assert SIGNER.unsign("session", token) == {"n": "mona"}
    assert SIGNER.unsign("flash", token) is None
    assert Signer(b"another-secret-0123").unsign("session", token) is None


@pytest.mark.parametrize("token", [None, "", "abc", "a.b.c", "!!!.???", "e30.AAAA", "x" * 5000])
def test_malformed_tokens_are_refused(token: str | None) -> None:
    assert SIGNER.unsign("session", token) is None


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        Signer(b"short")


def test_a_session_is_bound_to_its_key_and_expiry() -> None:
    session, cookie = open_session(SIGNER, MONA, now=NOW, lifetime=timedelta(hours=1))
    assert read_session(SIGNER, cookie, [MONA], now=NOW) == session
    assert read_session(SIGNER, cookie, [MONA], now=NOW + timedelta(hours=1)) is None
    rotated = StaffKey("mona", Role.INVENTORY_MANAGER, "key-m2")
    assert read_session(SIGNER, cookie, [rotated], now=NOW) is None
    demoted = StaffKey("mona", Role.CUSTOMER_SERVICE, "key-m")
    assert read_session(SIGNER, cookie, [demoted], now=NOW) is None


def test_csrf_tokens_belong_to_one_session() -> None:
    first, _ = open_session(SIGNER, MONA, now=NOW, lifetime=timedelta(hours=1))
    second, _ = open_session(SIGNER, MONA, now=NOW, lifetime=timedelta(hours=1))
    token = csrf_token(SIGNER, first.session_id)
    assert csrf_ok(SIGNER, first.session_id, token)
    assert not csrf_ok(SIGNER, second.session_id, token)
    assert not csrf_ok(SIGNER, first.session_id, None)
    assert not csrf_ok(SIGNER, first.session_id, token[:-1] + "é")


def test_flash_messages_expire() -> None:
    cookie = flash_cookie(SIGNER, "ok", "Saved.", now=NOW)
    assert read_flash(SIGNER, cookie, now=NOW) == ("ok", "Saved.")
    assert read_flash(SIGNER, cookie, now=NOW + timedelta(minutes=3)) is None


def test_a_presented_key_is_matched_against_every_staff_key() -> None:
    keys = [StaffKey("alice", Role.ADMIN, "key-a"), MONA]
    assert find_staff_key(keys, "key-m") == MONA
    assert find_staff_key(keys, "key-x") is None
    assert find_staff_key(keys, "") is None

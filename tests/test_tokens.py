"""Unsubscribe tokens: they round-trip, and anything not signed with our secret is refused."""

from __future__ import annotations

import base64

import pytest

from monitor.errors import MonitorError
from monitor.mail.tokens import InvalidToken, sign_unsubscribe, verify_unsubscribe

SECRET = b"s" * 32


def test_round_trip_returns_email_and_scope() -> None:
    token = sign_unsubscribe(SECRET, "ana@example.org", "kem-sokha-treason")
    assert verify_unsubscribe(SECRET, token) == ("ana@example.org", "kem-sokha-treason")


def test_default_scope_is_all() -> None:
    assert verify_unsubscribe(SECRET, sign_unsubscribe(SECRET, "ana@example.org")) == (
        "ana@example.org",
        "all",
    )


def test_token_is_url_safe_and_compact() -> None:
    token = sign_unsubscribe(SECRET, "sophea.researcher@example.org")
    assert token.replace("-", "").replace("_", "").isalnum()
    assert len(token) < 80


def test_non_ascii_address_round_trips() -> None:
    token = sign_unsubscribe(SECRET, "សុខា@example.org")
    assert verify_unsubscribe(SECRET, token) == ("សុខា@example.org", "all")


def test_token_signed_with_another_secret_is_refused() -> None:
    token = sign_unsubscribe(b"x" * 32, "ana@example.org")
    with pytest.raises(InvalidToken):
        verify_unsubscribe(SECRET, token)


def test_every_single_character_change_is_refused() -> None:
    token = sign_unsubscribe(SECRET, "ana@example.org")
    for i, char in enumerate(token):
        for replacement in {"A", "B", "-", "_"} - {char}:
            tampered = token[:i] + replacement + token[i + 1 :]
            with pytest.raises(InvalidToken):
                verify_unsubscribe(SECRET, tampered)


def test_forged_payload_with_copied_signature_is_refused() -> None:
    raw = base64.urlsafe_b64decode(sign_unsubscribe(SECRET, "ana@example.org") + "==")
    forged = b"all\x00boss@example.org" + raw[-16:]
    token = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    with pytest.raises(InvalidToken):
        verify_unsubscribe(SECRET, token)


@pytest.mark.parametrize(
    "garbage",
    ["", "a", "not a token", "%%%", "AAAA", "A" * 5000, "abc=", "YWxs", "😀", "\x00\x00"],
)
def test_garbage_is_refused_as_invalid_token(garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify_unsubscribe(SECRET, garbage)


def test_truncated_and_extended_tokens_are_refused() -> None:
    token = sign_unsubscribe(SECRET, "ana@example.org")
    for bad in (token[:-1], token[:-4], token + "A", token + "AAAA", token[4:]):
        with pytest.raises(InvalidToken):
            verify_unsubscribe(SECRET, bad)


def test_invalid_token_is_a_monitor_error_with_a_hint() -> None:
    with pytest.raises(MonitorError) as info:
        verify_unsubscribe(SECRET, "nope")
    assert info.value.hint


def test_short_secret_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        sign_unsubscribe(b"short", "ana@example.org")

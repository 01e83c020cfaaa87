"""Signed unsubscribe tokens: who asked to stop, and for what, without a database lookup.

A token is base64url(payload || tag), with payload = scope NUL email (UTF-8) and tag the
first 16 bytes of HMAC-SHA256(secret, domain || payload). A 128-bit tag is the truncation
RFC 2104 section 5 allows (at least half the hash output) and keeps the link short enough for
a List-Unsubscribe header. Tokens do not expire: an unsubscribe link must keep working in an
old mail. Rotating the secret invalidates every link already sent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from monitor.errors import MonitorError

_DOMAIN = b"case-monitor/unsubscribe/v1\x00"  # keeps these tags apart from any other HMAC use
_TAG_BYTES = 16
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
_MAX_TOKEN_CHARS = 1024


class InvalidToken(MonitorError):
    """An unsubscribe token was forged, tampered with, truncated or is not a token at all."""

    hint = "use the unsubscribe link from a recent digest"


def _tag(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _DOMAIN + payload, hashlib.sha256).digest()[:_TAG_BYTES]


def _check_secret(secret: bytes) -> None:
    if not isinstance(secret, bytes | bytearray) or len(secret) < 16:
        raise ValueError("the unsubscribe secret must be at least 16 bytes")


def sign_unsubscribe(secret: bytes, email: str, scope: str = "all") -> str:
    """Return a URL-safe token that proves `email` may unsubscribe from `scope`."""
    _check_secret(secret)
    if not email or "\x00" in email or "\x00" in scope:
        raise ValueError("email must be non-empty; email and scope may not contain NUL")
    payload = scope.encode("utf-8") + b"\x00" + email.encode("utf-8")
    raw = payload + _tag(secret, payload)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def verify_unsubscribe(secret: bytes, token: str) -> tuple[str, str]:
    """Return (email, scope) of a token signed with `secret`; raise InvalidToken otherwise."""
    _check_secret(secret)
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        raise InvalidToken("the unsubscribe token is not valid")
    if not _ALPHABET.fullmatch(token):
        raise InvalidToken("the unsubscribe token is not valid")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidToken("the unsubscribe token is not valid") from exc
    # Only the canonical spelling is accepted, so no two strings are the same token.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token:
        raise InvalidToken("the unsubscribe token is not valid")
    if len(raw) <= _TAG_BYTES:
        raise InvalidToken("the unsubscribe token is not valid")
    payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(tag, _tag(secret, payload)):
        raise InvalidToken("the unsubscribe token is not valid")
    # The tag matched, so the payload is ours; the checks below are belts and braces.
    scope_bytes, sep, email_bytes = payload.partition(b"\x00")
    if not sep or not email_bytes:
        raise InvalidToken("the unsubscribe token is not valid")
    try:
        return email_bytes.decode("utf-8"), scope_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidToken("the unsubscribe token is not valid") from exc

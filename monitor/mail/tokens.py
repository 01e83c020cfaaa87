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


# --- The same construction for the digest's other links, each with a domain of its own,
# so a token made for one purpose is never accepted for another. ---

_VIEW_DOMAIN = b"case-monitor/view/v1\x00"
_FEEDBACK_DOMAIN = b"case-monitor/feedback/v1\x00"
_SESSION_DOMAIN = b"case-monitor/operator-session/v1\x00"
_MANAGE_DOMAIN = b"case-monitor/subscription/v1\x00"


def _sign_fields(secret: bytes, domain: bytes, *fields: str) -> str:
    _check_secret(secret)
    if any("\x00" in f for f in fields):
        raise ValueError("token fields may not contain NUL")
    payload = "\x00".join(fields).encode("utf-8")
    tag = hmac.new(secret, domain + payload, hashlib.sha256).digest()[:_TAG_BYTES]
    return base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode("ascii")


def _verify_fields(secret: bytes, domain: bytes, token: str, count: int) -> list[str]:
    _check_secret(secret)
    bad = InvalidToken("the link is not valid")
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS or not _ALPHABET.fullmatch(token):
        raise bad
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise bad from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != token or len(raw) <= _TAG_BYTES:
        raise bad
    payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
    if not hmac.compare_digest(tag, hmac.new(secret, domain + payload, hashlib.sha256).digest()[:_TAG_BYTES]):
        raise bad
    try:
        fields = payload.decode("utf-8").split("\x00")
    except UnicodeDecodeError as exc:
        raise bad from exc
    if len(fields) != count or not all(fields):
        raise bad
    return fields


def sign_view(secret: bytes, email: str) -> str:
    """A token that lets `email` read the pages of the cases they follow (the digest's
    "view the case" link)."""
    return _sign_fields(secret, _VIEW_DOMAIN, email)


def verify_view(secret: bytes, token: str) -> str:
    return _verify_fields(secret, _VIEW_DOMAIN, token, 1)[0]


def sign_feedback(secret: bytes, email: str, development_id: int, label: str) -> str:
    """A token for one click: `email` says `label` of development `development_id`."""
    return _sign_fields(secret, _FEEDBACK_DOMAIN, email, str(development_id), label)


def verify_feedback(secret: bytes, token: str) -> tuple[str, int, str]:
    email, development_id, label = _verify_fields(secret, _FEEDBACK_DOMAIN, token, 3)
    if not development_id.isdigit():
        raise InvalidToken("the link is not valid")
    return email, int(development_id), label


def sign_session(secret: bytes, expires: int) -> str:
    """The operator's login cookie: valid until the Unix time `expires`."""
    return _sign_fields(secret, _SESSION_DOMAIN, "operator", str(expires))


def verify_session(secret: bytes, token: str, now: float) -> bool:
    try:
        who, expires = _verify_fields(secret, _SESSION_DOMAIN, token, 2)
    except InvalidToken:
        return False
    return who == "operator" and expires.isdigit() and int(expires) > now


def sign_manage(secret: bytes, email: str) -> str:
    """A token for `email`'s subscription page (frequency, time, zone, cases)."""
    return _sign_fields(secret, _MANAGE_DOMAIN, email)


def verify_manage(secret: bytes, token: str) -> str:
    return _verify_fields(secret, _MANAGE_DOMAIN, token, 1)[0]

"""Who may read the case pages. They carry names of people at risk.

Bound to loopback (the default), the pages are the operator's own: whoever can reach
127.0.0.1 is on this machine. Bound to any other address, every case page needs one of:

- a signed per-subscriber link (`?t=...`, the digest's "view the case" link): it opens the
  cases that subscriber follows in the config in force, and nothing else; a subscriber
  removed from the config or on the suppression list loses it;
- an operator login: the password checked against an argon2 hash from the environment
  (`MONITOR_OPERATOR_PASSWORD_HASH`), then a signed, HttpOnly, SameSite=Strict cookie for
  12 hours; HTTP Basic with the same password works too (scripts, Prometheus).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

from monitor.config import Config
from monitor.mail.tokens import InvalidToken, sign_session, verify_session, verify_view
from monitor.model import Subscriber
from monitor.store.shared import subscriber_key
from monitor.web.context import WebContext

COOKIE = "monitor_operator"
SESSION_SECONDS = 12 * 3600
_hasher = PasswordHasher()


def is_public(host: str) -> bool:
    """True unless `host` is a loopback address (or 'localhost')."""
    if host in ("localhost", ""):
        return host == ""  # '' means every address
    try:
        return not ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return True


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(encoded: str | None, password: str) -> bool:
    if not encoded or not password:
        return False
    try:
        return _hasher.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Viewer:
    operator: bool
    email: str | None = None
    cases: frozenset[str] = frozenset()
    token: str = ""  # carried in the links of the pages it opens

    def may_see(self, case_id: str) -> bool:
        return self.operator or case_id in self.cases

    @property
    def query(self) -> str:
        return f"?t={self.token}" if self.token else ""


def followed_cases(config: Config, subscriber: Subscriber) -> frozenset[str]:
    if subscriber.cases:
        return frozenset(subscriber.cases)
    names = set(subscriber.watchlists)
    return frozenset(c.id for w in config.watchlists if not names or w.name in names for c in w.cases)


def _basic_password(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return ""
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""
    return decoded.partition(":")[2]


def viewer(request: Request, suppressed: frozenset[str] = frozenset()) -> Viewer | None:
    """Who is asking, or None when nobody may see anything."""
    ctx: WebContext = request.app.state.ctx
    if not ctx.public:
        return Viewer(operator=True)
    if verify_session(ctx.secret, request.cookies.get(COOKIE, ""), time.time()):
        return Viewer(operator=True)
    password = _basic_password(request)
    if password and check_password(ctx.operator_hash, password):
        return Viewer(operator=True)
    token = request.query_params.get("t", "")
    if not token:
        return None
    try:
        email = subscriber_key(verify_view(ctx.secret, token))
    except InvalidToken:
        return None
    config = ctx.config_of()
    if config is None or email in suppressed:
        return None
    for subscriber in config.subscribers:
        if subscriber_key(subscriber.email) == email:
            return Viewer(operator=False, email=email, cases=followed_cases(config, subscriber), token=token)
    return None


def session_cookie(ctx: WebContext) -> tuple[str, int]:
    return sign_session(ctx.secret, int(time.time()) + SESSION_SECONDS), SESSION_SECONDS

"""The unsubscribe page: RFC 8058 one-click POST, and a confirmation page for GET.

GET never unsubscribes (mail scanners follow links); it shows a page whose button POSTs.
A POST with a valid token puts the address on the suppression list, which wins over
config. A forged or damaged token gets 400 and changes nothing. The body of the POST
("List-Unsubscribe=One-Click") is read (bounded by the guard) and ignored: the token is
the proof.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import Response

from monitor.mail.tokens import InvalidToken, verify_unsubscribe
from monitor.store import suppressions
from monitor.web.context import WebContext
from monitor.web.pages import message, page

log = logging.getLogger(__name__)

PATH = "/unsubscribe"


def _token(ctx: WebContext, request: Request) -> tuple[str, str] | None:
    try:
        return verify_unsubscribe(ctx.secret, request.query_params.get("token", ""))
    except InvalidToken:
        return None


def _invalid() -> Response:
    return message("Invalid link", "This unsubscribe link is not valid. Use the link from a recent digest.", 400)


async def unsubscribe(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    found = _token(ctx, request)
    if found is None:
        return _invalid()
    email, scope = found
    if request.method == "GET":
        action = request.url.path + ("?" + request.url.query if request.url.query else "")
        return page("unsubscribe.html.j2", title="Unsubscribe", email=email, action=action)
    try:
        await asyncio.to_thread(suppressions.suppress, ctx.engine, email, "unsubscribe",
                                f"one-click ({scope})", ctx.clock())
    except Exception:
        log.exception("unsubscribe endpoint: cannot record the unsubscribe of %s", email)
        return message("Try again", "Could not record that just now; please try again.", 503)
    log.info("unsubscribed %s", email)
    return message("Unsubscribed", f"{email} will get no more digests.")

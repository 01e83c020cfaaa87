"""Feedback from the digest: "not news", "wrong type", "wrong case" on one development.

Each link in a digest is signed for one subscriber, one development and one label. GET
shows what the click will say and a button; only the POST records it (mail scanners open
every link of a mail, and must not label every development). Recorded, the development is
left out of every later digest of this installation.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import Response

from monitor.mail.tokens import InvalidToken, verify_feedback
from monitor.store import feedback, views
from monitor.store.shared import subscriber_key
from monitor.web.auth import followed_cases
from monitor.web.context import WebContext
from monitor.web.pages import message, page

log = logging.getLogger(__name__)

PATH = "/feedback"
WORDS = {"not_news": "not news", "wrong_type": "the wrong type", "wrong_case": "the wrong case"}


def _invalid() -> Response:
    return message("Invalid link", "This feedback link is not valid. Use the link from a recent digest.", 400)


async def feedback_page(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    try:
        email, development_id, label = verify_feedback(ctx.secret, request.query_params.get("token", ""))
    except InvalidToken:
        return _invalid()
    if label not in feedback.LABELS:
        return _invalid()
    row = await asyncio.to_thread(views.development, ctx.engine, development_id)
    if row is None:
        return message("Not found", "That development is no longer stored.", 404)
    config = ctx.config_of()
    if config is not None:
        subscriber = next((s for s in config.subscribers if subscriber_key(s.email) == subscriber_key(email)), None)
        if subscriber is None or row.case_id not in followed_cases(config, subscriber):
            return message("Invalid link", "This feedback link is not for a current subscriber of this case.", 403)
    if request.method == "GET":
        action = request.url.path + "?" + request.url.query
        return page("feedback.html.j2", title="Feedback", d=row, words=WORDS[label], action=action)
    try:
        await asyncio.to_thread(feedback.record, ctx.engine, email, development_id, label, ctx.clock())
    except Exception:
        log.exception("feedback: cannot record %s on development %s", label, development_id)
        return message("Try again", "Could not record that just now; please try again.", 503)
    log.info("feedback: %s marked development %s %s", email, development_id, label)
    return message("Thank you", f"Recorded: {WORDS[label]}. This development will not appear in later digests.")

"""/subscriptions/<token>: a subscriber changes frequency, time, zone and cases, or
unsubscribes (the button posts to the RFC 8058 one-click endpoint, which stays as it is).

The change is written to config/subscribers.yaml in place (comments and order kept, the
file validated before it replaces the old one); the daemon's config reload applies it
within seconds, as it does for an edit by hand.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from monitor.config import Config, parse_time_of_day, parse_timezone, update_subscriber
from monitor.errors import ConfigError
from monitor.mail.tokens import InvalidToken, sign_unsubscribe, verify_manage
from monitor.model import Subscriber
from monitor.store import suppressions
from monitor.store.shared import subscriber_key
from monitor.web.context import WebContext
from monitor.web.pages import message, page

log = logging.getLogger(__name__)

FREQUENCIES = ("immediate", "daily", "weekly")


def _find(config: Config, email: str) -> Subscriber | None:
    return next((s for s in config.subscribers if subscriber_key(s.email) == subscriber_key(email)), None)


def _choices(config: Config, subscriber: Subscriber) -> list[tuple[str, str]]:
    names = set(subscriber.watchlists)
    return [(c.id, c.title) for w in config.watchlists if not names or w.name in names for c in w.cases]


def _form(ctx: WebContext, config: Config, subscriber: Subscriber, token: str, *, status: int = 200,
          error: str = "", saved: bool = False, unsubscribed: bool = False) -> Response:
    unsubscribe = "/unsubscribe?token=" + sign_unsubscribe(ctx.secret, subscriber_key(subscriber.email))
    return page("subscription.html.j2", status, title="Your subscription", s=subscriber, token=token,
                frequencies=FREQUENCIES, choices=_choices(config, subscriber), chosen=set(subscriber.cases),
                error=error, saved=saved, unsubscribe=unsubscribe, unsubscribed=unsubscribed)


async def subscription_page(request: Request) -> Response:
    ctx: WebContext = request.app.state.ctx
    token = request.path_params["token"]
    try:
        email = verify_manage(ctx.secret, token)
    except InvalidToken:
        return message("Invalid link", "This subscription link is not valid. Use the link from a recent digest.", 400)
    config = ctx.config_of()
    subscriber = _find(config, email) if config is not None else None
    if config is None or subscriber is None:
        return message("Not subscribed", "This address is not subscribed (any more).", 404)
    blocked = await asyncio.to_thread(suppressions.suppressed_emails, ctx.engine)
    unsubscribed = subscriber_key(email) in blocked
    if request.method == "GET":
        return _form(ctx, config, subscriber, token, unsubscribed=unsubscribed)
    form = parse_qs(request.scope.get("state", {}).get("body", b"").decode("utf-8", "replace"))
    frequency = form.get("frequency", [""])[0]
    offered = {case_id for case_id, _ in _choices(config, subscriber)}
    cases = tuple(c for c in dict.fromkeys(form.get("cases", [])) if c)
    try:
        if frequency not in FREQUENCIES:
            raise ValueError("choose immediate, daily or weekly")
        at = parse_time_of_day(form.get("at", [""])[0])
        zone = parse_timezone(form.get("timezone", [""])[0])
        if not set(cases) <= offered:
            raise ValueError("unknown case")
    except ValueError as exc:
        return _form(ctx, config, subscriber, token, status=400, error=str(exc), unsubscribed=unsubscribed)
    if not cases:
        return _form(ctx, config, subscriber, token, status=400, error="choose at least one case",
                     unsubscribed=unsubscribed)
    chosen = () if set(cases) == offered else cases  # every case ticked: all, as an omitted `cases:`
    new = Subscriber(email=subscriber.email, name=subscriber.name, watchlists=subscriber.watchlists, cases=chosen,
                     frequency=frequency, at=at, timezone=zone, coverage=subscriber.coverage,
                     language=subscriber.language)
    try:
        await asyncio.to_thread(update_subscriber, config.config_dir / "subscribers.yaml", new)
    except ConfigError as exc:
        log.warning("subscription of %s: not saved: %s", email, exc)
        return _form(ctx, config, subscriber, token, status=400, error="that change could not be saved",
                     unsubscribed=unsubscribed)
    log.info("subscription of %s changed: %s at %s %s, %d case(s)", email, frequency, at, zone, len(cases))
    return _form(ctx, config, new, token, saved=True, unsubscribed=unsubscribed)

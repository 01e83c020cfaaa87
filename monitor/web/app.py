"""The Starlette application: routes, the body guard, no debug pages (a 500 says only that)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor.web import cases, feedback, health, subscriptions, unsubscribe
from monitor.web.context import WebContext
from monitor.web.guard import MAX_BODY, Guard
from monitor.web.pages import message, stylesheet

__all__ = ["WebContext", "make_app"]


async def _not_found(request: Request, exc: Exception) -> Response:
    return message("Not found", "Nothing here.", 404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return message("Not allowed", "That method is not allowed here.", 405)


def make_app(ctx: WebContext, *, body_timeout: float = 10.0, max_body: int = MAX_BODY) -> Guard:
    routes = [
        Route(unsubscribe.PATH, unsubscribe.unsubscribe, methods=["GET", "POST"]),
        Route(unsubscribe.PATH + "/", unsubscribe.unsubscribe, methods=["GET", "POST"]),
        Route("/static/style.css", stylesheet, methods=["GET"]),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route(feedback.PATH, feedback.feedback_page, methods=["GET", "POST"]),
        Route("/subscriptions/{token}", subscriptions.subscription_page, methods=["GET", "POST"]),
        Route("/login", cases.login, methods=["GET", "POST"]),
        Route("/cases", cases.cases_index, methods=["GET"]),
        Route("/api/cases", cases.cases_index, methods=["GET"]),
        Route("/cases/{case_id}", cases.case_page, methods=["GET"]),
        Route("/api/cases/{case_id}", cases.case_page, methods=["GET"]),
        Route("/developments/{development_id}", cases.development_page, methods=["GET"]),
        Route("/api/developments/{development_id}", cases.development_page, methods=["GET"]),
        Route("/metrics", health.metrics, methods=["GET"]),
    ]
    app = Starlette(debug=False, routes=routes, exception_handlers={404: _not_found, 405: _not_allowed})
    app.state.ctx = ctx
    return Guard(app, max_body=max_body, body_timeout=body_timeout)
